# Timing half of benchmarks/psm_speed.py: Rscript psm_speed.R <pool.csv> <caliper> <scores_out.csv>
# Prints one JSON line with the seconds for glm and for matchit's matching step.
suppressMessages(library(MatchIt))
args <- commandArgs(TRUE)
d <- read.csv(args[1]); caliper <- as.numeric(args[2])
f <- treat ~ age + sex + bmi + sbp + dbp + hba1c + fpg + egfr + urine_protein + smoking
t_glm <- system.time(g <- glm(f, data = d, family = binomial()))[["elapsed"]]
ps <- fitted(g)
# matching step alone: the score is passed in, so matchit does not refit it
t_match <- system.time(m <- matchit(f, data = d, method = "nearest", distance = ps,
                                    caliper = caliper))[["elapsed"]]
# whole matchit(): its own glm, the matching and the weights
t_full <- system.time(m2 <- matchit(f, data = d, method = "nearest",
                                    caliper = caliper))[["elapsed"]]
write.csv(data.frame(score = ps), args[3], row.names = FALSE)
cat(sprintf('{"glm": %.4f, "match": %.4f, "full": %.4f, "matched": %d, "matchit": "%s", "r_version": "%s"}\n',
            t_glm, t_match, t_full, sum(!is.na(m$match.matrix[, 1])),
            as.character(packageVersion("MatchIt")), R.version.string))
