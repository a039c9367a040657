# Reference results from Debian's R MatchIt 4.5.1 for pfseval's own PSM test cases.
# Run from this folder:  Rscript make_reference.R ../lalonde/lalonde.csv .
# Needs MatchIt, sandwich, lmtest. Writes <spec>_{distance,pairs,balance,weights,effect}.csv
# and versions.txt.
suppressMessages(library(MatchIt)); suppressMessages(library(sandwich)); suppressMessages(library(lmtest))
args <- commandArgs(TRUE)
d <- read.csv(args[1]); outdir <- args[2]
rownames(d) <- d$id
d$race <- factor(d$race)
f <- treat ~ age + educ + race + married + nodegree + re74 + re75
writeLines(c(R.version.string,
             paste("MatchIt", as.character(packageVersion("MatchIt"))),
             paste("sandwich", as.character(packageVersion("sandwich"))),
             paste("lmtest", as.character(packageVersion("lmtest")))),
           file.path(outdir, "versions.txt"))
out <- function(x, name, spec) write.csv(x, file.path(outdir, paste0(spec, "_", name, ".csv")), row.names = FALSE)
run <- function(spec, adjust = FALSE, ...) {
  m <- matchit(f, data = d, method = "nearest", ...)
  out(data.frame(id = d$id, distance = unname(m$distance), discarded = unname(m$discarded)), "distance", spec)
  mm <- m$match.matrix
  pairs <- data.frame(treated_id = as.integer(rownames(mm)))
  for (j in seq_len(ncol(mm))) pairs[[paste0("control_id_", j)]] <- as.integer(mm[, j])
  out(pairs, "pairs", spec)
  s <- summary(m, standardize = TRUE)
  cols <- c("Std. Mean Diff.", "Var. Ratio", "eCDF Mean", "eCDF Max")
  bal <- data.frame(variable = rownames(s$sum.all),
                    smd_before = s$sum.all[, cols[1]], smd_after = s$sum.matched[, cols[1]],
                    vr_before = s$sum.all[, cols[2]], vr_after = s$sum.matched[, cols[2]],
                    ecdf_mean_before = s$sum.all[, cols[3]], ecdf_mean_after = s$sum.matched[, cols[3]],
                    ecdf_max_before = s$sum.all[, cols[4]], ecdf_max_after = s$sum.matched[, cols[4]])
  out(bal, "balance", spec)
  md <- match.data(m)
  w <- data.frame(id = md$id, weights = md$weights)
  if (!is.null(md$subclass)) w$subclass <- md$subclass
  out(w, "weights", spec)
  replace <- is.null(md$subclass)
  vc <- if (replace) function(x) vcovHC(x, type = "HC3") else function(x) vcovCL(x, cluster = ~subclass)
  res <- NULL
  forms <- list(unadjusted = re78 ~ treat)
  if (adjust) forms$adjusted <- re78 ~ treat + age + educ + race + married + nodegree + re74 + re75
  for (nm in names(forms)) {
    fit <- lm(forms[[nm]], data = md, weights = weights)
    V <- vc(fit)
    ct <- coeftest(fit, vcov. = V)
    ci <- coefci(fit, vcov. = V, level = 0.95)
    res <- rbind(res, data.frame(spec = spec, model = nm, vcov = if (replace) "HC3" else "cluster",
      matched_treated = sum(md$treat == 1), matched_control = sum(md$treat == 0),
      att = ct["treat", 1], std_error = ct["treat", 2], p_value = ct["treat", 4],
      ci_low = ci["treat", 1], ci_high = ci["treat", 2], df = fit$df.residual))
  }
  out(res, "effect", spec)
  print(res)
}
run("replace_nn1", adjust = TRUE, replace = TRUE)
run("exact_married_nodegree", adjust = TRUE, exact = ~ married + nodegree)
run("ratio3_linear_caliper", ratio = 3, link = "linear.logit", caliper = 0.5)
run("probit_smallest", link = "probit", m.order = "smallest")
run("linear_probit_data_order", link = "linear.probit", m.order = "data", ratio = 2)
run("discard_both", discard = "both")
g <- glm(f, data = d, family = binomial(link = "probit"))
write.csv(data.frame(term = names(coef(g)), estimate = unname(coef(g)),
                     std_error = unname(sqrt(diag(vcov(g))))), file.path(outdir, "probit_glm_coef.csv"), row.names = FALSE)
g <- glm(f, data = d, family = binomial())
write.csv(data.frame(term = names(coef(g)), estimate = unname(coef(g)),
                     std_error = unname(sqrt(diag(vcov(g))))), file.path(outdir, "logit_glm_coef.csv"), row.names = FALSE)
