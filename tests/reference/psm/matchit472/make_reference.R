# Reference outputs of MatchIt 4.7.2 for pfseval's matching tests.
# Run: R_LIBS=/path/to/lib/with/MatchIt-4.7.2 Rscript make_reference.R .
# (inputs ties.csv and panel.csv come from make_inputs.py)
suppressPackageStartupMessages(library(MatchIt))
stopifnot(packageVersion("MatchIt") == "4.7.2")
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[1] else "."

ties <- read.csv(file.path(out, "ties.csv"), stringsAsFactors = TRUE)
panel <- read.csv(file.path(out, "panel.csv"))
cont <- read.csv(file.path(out, "cont.csv"))
rownames(cont) <- cont$id
fcont <- treat ~ x1 + x2 + x3
rownames(ties) <- ties$id
rownames(panel) <- panel$id
fties <- treat ~ agegrp + sex + smoke + insurer
fpanel <- treat ~ age + male + sbp + hba1c

write_case <- function(m, data, name) {
  mm <- m$match.matrix
  ids <- matrix(as.integer(mm), nrow = nrow(mm))  # row names are the ids
  colnames(ids) <- paste0("control_id_", seq_len(ncol(ids)))
  write.csv(data.frame(focal_id = as.integer(rownames(mm)), ids),
            file.path(out, paste0(name, "_mm.csv")), row.names = FALSE, na = "")
  w <- data.frame(id = data$id, weights = m$weights,
                  subclass = if (is.null(m$subclass)) NA else as.integer(as.character(m$subclass)))
  write.csv(w, file.path(out, paste0(name, "_weights.csv")), row.names = FALSE, na = "")
  write.csv(data.frame(id = data$id, distance = if (is.null(m$distance)) NA else m$distance),
            file.path(out, paste0(name, "_distance.csv")), row.names = FALSE, na = "")
}

write_balance <- function(m, name, ...) {
  s <- summary(m, un = TRUE, ...)
  b <- function(tab, suffix) {
    x <- data.frame(variable = rownames(tab), smd = tab[, "Std. Mean Diff."],
                    vr = tab[, "Var. Ratio"], ecdf_mean = tab[, "eCDF Mean"],
                    ecdf_max = tab[, "eCDF Max"])
    names(x)[-1] <- paste0(names(x)[-1], "_", suffix)
    x
  }
  res <- merge(b(s$sum.all, "before"), b(s$sum.matched, "after"), by = "variable", sort = FALSE)
  write.csv(res, file.path(out, paste0(name, "_balance.csv")), row.names = FALSE, na = "")
}

cases <- list(
  ties_nn1 = list(data = ties, args = list(fties)),
  ties_nn2 = list(data = ties, args = list(fties, ratio = 2)),
  ties_replace2 = list(data = ties, args = list(fties, ratio = 2, replace = TRUE)),
  ties_exact_sex = list(data = ties, args = list(fties, exact = ~sex)),
  ties_antiexact_insurer = list(data = ties, args = list(fties, antiexact = ~insurer)),
  ties_atc_reuse5 = list(data = ties, args = list(fties, estimand = "ATC", reuse.max = 5)),
  ties_varratio = list(data = ties, args = list(fties, ratio = 2, min.controls = 1,
                                                max.controls = 3)),
  ties_smallest_caliper = list(data = ties, args = list(fties, m.order = "smallest",
                                                        caliper = 0.05, std.caliper = FALSE)),
  panel_unitid = list(data = panel, args = list(fpanel, unit.id = ~person)),
  panel_unitid_nn2_cal = list(data = panel, args = list(fpanel, unit.id = ~person, ratio = 2,
                                                       caliper = c(0.5, sbp = 10),
                                                       std.caliper = c(TRUE, FALSE))),
  panel_reuse2 = list(data = panel, args = list(fpanel, reuse.max = 2, link = "linear.logit")),
  ties_closest_nn2 = list(data = ties, args = list(fties, m.order = "closest", ratio = 2)),
  ties_farthest_caliper = list(data = ties, args = list(fties, m.order = "farthest",
                                                        caliper = 0.1)),
  panel_closest_unitid = list(data = panel, args = list(fpanel, m.order = "closest",
                                                        unit.id = ~person)),
  panel_farthest_nn2 = list(data = panel, args = list(fpanel, m.order = "farthest", ratio = 2,
                                                      link = "linear.logit")),
  cont_mahal = list(data = cont, args = list(fcont, distance = "mahalanobis")),
  cont_robust_mahal_nn2 = list(data = cont, args = list(fcont, distance = "robust_mahalanobis",
                                                        ratio = 2)),
  cont_mahal_replace = list(data = cont, args = list(fcont, distance = "mahalanobis",
                                                     replace = TRUE, ratio = 2)),
  cont_mahvars_cal = list(data = cont, args = list(fcont, mahvars = ~x1 + x2 + x3,
                                                   caliper = 0.25)),
  panel_user_distance = list(data = panel, args = list(fpanel, distance = round(panel$hba1c * 10) +
                                                         panel$age %/% 5))
)

for (name in names(cases)) {
  cs <- cases[[name]]
  m <- suppressWarnings(do.call(matchit, c(cs$args, list(data = cs$data, method = "nearest"))))
  write_case(m, cs$data, name)
}

# balance with squares and interactions, and a variable outside the score model
m <- matchit(fties, data = ties, method = "nearest")
write_balance(m, "ties_nn1", interactions = TRUE)
m <- suppressWarnings(matchit(fpanel, data = panel, method = "nearest", unit.id = ~person))
write_balance(m, "panel_unitid", interactions = TRUE, addlvariables = ~year)

m <- suppressWarnings(matchit(fties, data = ties, method = "nearest", estimand = "ATC",
                              reuse.max = 5))
write_balance(m, "ties_atc_reuse5")

writeLines(c(R.version.string,
             paste("MatchIt", packageVersion("MatchIt"), "(built from the public source)"),
             paste("chk", packageVersion("chk"))),
           file.path(out, "versions.txt"))
