# Reference values for pfseval.inference.signrank_test and mcnemar_test with and without the
# continuity correction (run: Rscript make_reference.R, cwd = this folder).
# Writes inference_reference.json; the tests read it and never call R.
suppressPackageStartupMessages(library(jsonlite))
set.seed(20261206)
out <- list(R = R.version.string)

sr <- function(x, exact, correct, level) {
  h <- suppressWarnings(wilcox.test(x, exact = exact, correct = correct, conf.int = TRUE,
                                    conf.level = level, tol.root = 1e-13))
  list(exact = exact, correct = correct, level = level,
       statistic = unname(h$statistic), p_value = h$p.value, estimate = unname(h$estimate),
       conf_low = h$conf.int[1], conf_high = h$conf.int[2],
       conf_level = attr(h$conf.int, "conf.level"))
}
cases <- list(
  # continuous, no ties (n = 20): exact = FALSE forces the normal approximation
  cont20 = round(rnorm(20, -0.8, 1.5), 3),
  # integer changes with ties and zeros (n = 40)
  ties40 = sample(-4:2, 40, replace = TRUE),
  # continuous, n = 80, heavy tails
  cont80 = round(2 + rt(80, 4) * 5, 2)
)
out$signrank <- lapply(cases, function(x) list(
  x = x,
  runs = list(
    sr(x, FALSE, FALSE, 0.95), sr(x, FALSE, TRUE, 0.95),
    sr(x, FALSE, FALSE, 0.90), sr(x, FALSE, TRUE, 0.90))))

# McNemar: rows = before (0, 1), cols = after (0, 1)
mc <- function(n00, n01, n10, n11) {
  tab <- matrix(c(n00, n10, n01, n11), 2)
  r <- function(correct) {
    h <- mcnemar.test(tab, correct = correct)
    list(statistic = unname(h$statistic), p_value = h$p.value)
  }
  list(n00 = n00, n01 = n01, n10 = n10, n11 = n11, corrected = r(TRUE), uncorrected = r(FALSE))
}
out$mcnemar <- list(mc(13, 3, 0, 4), mc(40, 12, 5, 30), mc(80, 6, 16, 59), mc(20, 7, 7, 9),
                    mc(2, 30, 1, 3))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "inference_reference.json")
