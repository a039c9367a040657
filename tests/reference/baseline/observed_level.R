# Reference values for baseline.compare's related["observed"] (the evaluation year's level).
# Run: Rscript observed_level.R (cwd = this folder). Writes observed_level.json; tests never call R.
# Rates: Wilson score interval, prop.test(x, n, correct = FALSE)$conf.int.
# Counts: exact (Garwood) Poisson interval, poisson.test(x)$conf.int.
suppressPackageStartupMessages(library(jsonlite))
out <- list(R = R.version.string)
rates <- list()
for (lv in c(0.95, 0.90)) {
  # the evaluation year (2020) of the series in baseline_reference.json
  ci <- prop.test(2230, 9750, correct = FALSE, conf.level = lv)$conf.int
  rates[[length(rates) + 1]] <- list(x = 2230, n = 9750, level = lv, low = ci[1], high = ci[2])
}
out$rates <- rates
counts <- list()
for (x in c(130, 0)) for (lv in c(0.95, 0.90)) {
  ci <- poisson.test(x, conf.level = lv)$conf.int
  counts[[length(counts) + 1]] <- list(x = x, level = lv, low = ci[1], high = ci[2])
}
out$counts <- counts
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "observed_level.json")
