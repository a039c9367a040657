# Independent reference for pfseval.psm.suppression_rate on the small Kobe data set.
# Run from the repository root:  Rscript tests/reference/kobe/kobe_small.R
# Writes tests/reference/kobe/kobe_small_R.json (R 4.2.2, jsonlite).
library(jsonlite)
dir <- "tests/reference/kobe"
people <- read.csv(file.path(dir, "kobe_small.csv"), stringsAsFactors = FALSE)
folds <- read.csv(file.path(dir, "kobe_small_folds.csv"), stringsAsFactors = FALSE)
people$change <- (people$egfr_follow - people$egfr) / people$followup_years
rownames(people) <- people$person_id

run <- function(pairs_file) {
  pairs <- read.csv(file.path(dir, pairs_file), stringsAsFactors = FALSE, na.strings = c("", "NA"))
  ccols <- grep("^control_id", names(pairs), value = TRUE)
  long <- do.call(rbind, lapply(ccols, function(cc)
    data.frame(treated_id = pairs$treated_id, cid = pairs[[cc]], stringsAsFactors = FALSE)))
  long <- long[!is.na(long$cid), ]
  long <- long[order(match(long$treated_id, pairs$treated_id)), ]
  # controls with follow-up, one row per matched set they belong to (frequency weights)
  mult <- table(long$cid)
  ctrl <- people[names(mult), ]
  ctrl$w <- as.numeric(mult)
  ctrl <- ctrl[!is.na(ctrl$change), ]
  fit <- lm(change ~ age + sex + egfr + hba1c, data = ctrl, weights = w)
  part <- people[pairs$treated_id, ]
  part <- part[!is.na(part$change), ]
  part$pred <- predict(fit, newdata = part)
  part$supp <- part$change > part$pred
  den <- part[part$lifestyle_improved == 1, ]
  x <- sum(den$supp); n <- nrow(den)
  # cross-fitted reference: a control's fold is the fold of the first set it is in
  first_set <- long$treated_id[match(rownames(ctrl), long$cid)]
  ctrl$fold <- folds$fold[match(first_set, folds$treated_id)]
  ctrl$cf <- NA_real_
  for (k in sort(unique(ctrl$fold))) {
    f_k <- lm(change ~ age + sex + egfr + hba1c, data = ctrl[ctrl$fold != k, ],
              weights = w)
    ctrl$cf[ctrl$fold == k] <- predict(f_k, newdata = ctrl[ctrl$fold == k, ])
  }
  x_ref <- sum(ctrl$w * (ctrl$change > ctrl$cf)); n_ref <- sum(ctrl$w)
  list(
    coefficients = as.list(coef(fit)),
    r_squared = summary(fit)$r.squared,
    n_controls_used = nrow(ctrl),
    n_suppressed = x, n_denominator = n, rate = x / n,
    n_without_followup = sum(is.na(people[pairs$treated_id, "change"])),
    wilson = as.numeric(prop.test(x, n, correct = FALSE)$conf.int),
    clopper_pearson = as.numeric(binom.test(x, n)$conf.int),
    participants = data.frame(person_id = rownames(part), predicted = part$pred,
                              actual = part$change, suppressed = part$supp),
    controls = data.frame(person_id = rownames(ctrl), fold = ctrl$fold, crossfit = ctrl$cf),
    reference_x = x_ref, reference_n = n_ref, reference_rate = x_ref / n_ref
  )
}
out <- list(
  r_version = R.version.string,
  without_replacement = run("kobe_small_pairs.csv"),
  with_replacement = run("kobe_small_pairs_repl.csv")
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           file.path(dir, "kobe_small_R.json"))
