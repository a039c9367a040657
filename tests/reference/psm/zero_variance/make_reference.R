# Balance statistics from R MatchIt's own summary code for degenerate matched samples.
# Run from this folder:  Rscript make_reference.R ../lalonde/lalonde.csv .
# MatchIt 4.5.1 cannot reproduce a caliper of 1e-5 itself (its 4.5.1 matcher truncates score
# differences, see ../README.md), so the matching weights are read from
# lalonde_caliper1e-5_weights.csv and MatchIt's summary() computes balance from them.
suppressMessages(library(MatchIt))
args <- commandArgs(TRUE)
d <- read.csv(args[1]); outdir <- args[2]
rownames(d) <- d$id
d$race <- factor(d$race)
writeLines(c(R.version.string, paste("MatchIt", as.character(packageVersion("MatchIt")))),
           file.path(outdir, "versions.txt"))
bal <- function(m, w, file) {
  m$weights <- w
  m$info$method <- "given weights"  # summary() reports the matched sample when a method is set
  s <- summary(m, standardize = TRUE, pair.dist = FALSE)
  cols <- c("Std. Mean Diff.", "Var. Ratio", "eCDF Mean", "eCDF Max")
  out <- data.frame(variable = rownames(s$sum.all),
                    smd_before = s$sum.all[, cols[1]], smd_after = s$sum.matched[, cols[1]],
                    vr_before = s$sum.all[, cols[2]], vr_after = s$sum.matched[, cols[2]],
                    ecdf_mean_before = s$sum.all[, cols[3]], ecdf_mean_after = s$sum.matched[, cols[3]],
                    ecdf_max_before = s$sum.all[, cols[4]], ecdf_max_after = s$sum.matched[, cols[4]])
  write.csv(out, file.path(outdir, file), row.names = FALSE)
  print(out)
}
# 1. LaLonde, 1:1 nearest neighbour with caliper 1e-5 (pfseval's weights): 10 exact pairs.
f <- treat ~ age + educ + race + married + nodegree + re74 + re75
m <- matchit(f, data = d, method = NULL, distance = "glm")
w <- read.csv(file.path(outdir, "lalonde_caliper1e-5_weights.csv"))
bal(m, w$weights[match(d$id, w$id)], "lalonde_caliper1e-5_balance.csv")
# 2. Toy data: the matched controls share one value of x (variance 0, treated variance > 0).
toy <- data.frame(treat = c(1, 1, 1, 0, 0, 0, 0), x = c(1, 2, 4, 5, 5, 6, 3),
                  z = c(0.5, 1.5, 2, 2.5, 1, 0.2, 3))
mt <- matchit(treat ~ x + z, data = toy, method = NULL, distance = "glm")
bal(mt, c(1, 1, 1, 1, 1, 0, 0), "toy_zero_control_variance_balance.csv")
# 3. Toy data: one unit per group in the matched sample (MatchIt's "too small" rule).
bal(mt, c(1, 0, 0, 1, 0, 0, 0), "toy_one_pair_balance.csv")
