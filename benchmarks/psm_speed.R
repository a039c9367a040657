# Timing half of benchmarks/psm_speed.py:
#   Rscript psm_speed.R <pool.csv> <caliper> <scores_out.csv> [repeats]
# Prints one JSON line with the median seconds (over `repeats` runs) of glm, of matchit's
# matching step (the score passed in) and of the whole matchit() (its own glm, matching,
# weights).
suppressMessages(library(MatchIt))
args <- commandArgs(TRUE)
d <- read.csv(args[1]); caliper <- as.numeric(args[2])
reps <- if (length(args) >= 4) as.integer(args[4]) else 1L
f <- treat ~ age + sex + bmi + sbp + dbp + hba1c + fpg + egfr + urine_protein + smoking
t_glm <- t_match <- t_full <- numeric(reps)
for (i in seq_len(reps)) {
  t_glm[i] <- system.time(g <- glm(f, data = d, family = binomial()))[["elapsed"]]
  ps <- fitted(g)
  # matching step alone: the score is passed in, so matchit does not refit it
  t_match[i] <- system.time(m <- matchit(f, data = d, method = "nearest", distance = ps,
                                         caliper = caliper))[["elapsed"]]
  t_full[i] <- system.time(m2 <- matchit(f, data = d, method = "nearest",
                                         caliper = caliper))[["elapsed"]]
}
write.csv(data.frame(score = ps), args[3], row.names = FALSE)
cat(sprintf('{"glm": %.4f, "match": %.4f, "full": %.4f, "matched": %d, "matched_full": %d, "matchit": "%s", "r_version": "%s"}\n',
            median(t_glm), median(t_match), median(t_full), sum(!is.na(m$match.matrix[, 1])),
            sum(!is.na(m2$match.matrix[, 1])),
            as.character(packageVersion("MatchIt")), R.version.string))
