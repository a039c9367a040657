# Reference values for tests/test_rct.py. Run from this directory:
#   Rscript make_reference.R
# Writes the data sets it simulates (cont.csv, clus.csv, perm.csv) and results.csv
# (case, quantity, value at 17 significant digits). Tests read these files; they never call R.
suppressPackageStartupMessages({
  library(sandwich)
  library(lmtest)
  library(clubSandwich)
})
set.seed(20261122)
out <- data.frame(case = character(), quantity = character(), value = numeric())
put <- function(case, quantity, value) {
  out[nrow(out) + 1, ] <<- list(case, quantity, as.numeric(value))
}
wr <- function(d, f) write.csv(d, f, row.names = FALSE)

# ---------------------------------------------------------------- continuous, individually randomised
n_s <- c(20, 24, 26)
n1_s <- c(10, 10, 13)
stratum <- rep(1:3, n_s)
arm <- unlist(lapply(1:3, function(s) sample(rep(c(1, 0), c(n1_s[s], n_s[s] - n1_s[s])))))
x1 <- round(rnorm(70, 50, 10), 1)
x2 <- rbinom(70, 1, 0.4)
y <- 2 + 1.5 * arm + 0.1 * x1 + 0.8 * x2 + 0.5 * stratum + rnorm(70, sd = 1 + 0.5 * arm)
y <- round(y, 3)
cont <- data.frame(id = sprintf("p%03d", 1:70), arm, stratum, x1, x2, y)
wr(cont, "cont.csv")

# Welch t test (intervention - control) at 95% and 90%
for (lev in c(0.95, 0.90)) {
  tt <- t.test(y[arm == 1], y[arm == 0], var.equal = FALSE, conf.level = lev)
  case <- sprintf("welch_%02d", round(100 * lev))
  put(case, "estimate", tt$estimate[1] - tt$estimate[2])
  put(case, "conf_low", tt$conf.int[1])
  put(case, "conf_high", tt$conf.int[2])
  put(case, "std_error", tt$stderr)
  put(case, "df", tt$parameter)
  put(case, "p_value", tt$p.value)
}

# Lin (2013): y ~ arm * centred covariates, HC2
fit_lin <- function(d, covs, case) {
  for (v in covs) d[[paste0(v, "_c")]] <- d[[v]] - mean(d[[v]])
  f <- as.formula(paste("y ~ arm * (", paste(paste0(covs, "_c"), collapse = " + "), ")"))
  fit <- lm(f, data = d)
  V <- vcovHC(fit, type = "HC2")
  ct <- coeftest(fit, vcov. = V)
  se <- sqrt(V["arm", "arm"])
  q <- qt(0.975, fit$df.residual)
  put(case, "estimate", coef(fit)["arm"])
  put(case, "std_error", se)
  put(case, "df", fit$df.residual)
  put(case, "conf_low", coef(fit)["arm"] - q * se)
  put(case, "conf_high", coef(fit)["arm"] + q * se)
  put(case, "p_value", ct["arm", 4])
}
fit_lin(cont, c("x1", "x2"), "lin")

# Stratified: stratum indicators (centred) interacted with arm, HC2. Also the
# stratum-size-weighted difference in means with the Neyman variance, by hand.
cont$s2 <- as.numeric(cont$stratum == 2)
cont$s3 <- as.numeric(cont$stratum == 3)
fit_lin(cont, c("s2", "s3"), "strata")
fit_lin(cont, c("s2", "s3", "x1", "x2"), "strata_lin")
est <- 0; v <- 0
for (s in 1:3) {
  a <- y[stratum == s & arm == 1]; b <- y[stratum == s & arm == 0]
  w <- n_s[s] / 70
  est <- est + w * (mean(a) - mean(b))
  v <- v + w^2 * (var(a) / length(a) + var(b) / length(b))
}
put("strata_hand", "estimate", est)
put("strata_hand", "std_error", sqrt(v))

# ---------------------------------------------------------------- cluster randomised
G <- 14
size <- sample(3:12, G, replace = TRUE)
carm <- sample(rep(c(1, 0), c(7, 7)))
cl <- rep(seq_len(G), size)
N <- sum(size)
cx1 <- round(rnorm(N), 3)
u <- rnorm(G, sd = 0.8)
cy <- round(1 + 0.7 * carm[cl] + 0.3 * cx1 + u[cl] + rnorm(N, sd = 1 + 0.3 * carm[cl]), 3)
clus <- data.frame(id = sprintf("c%03d", seq_len(N)), cluster = sprintf("k%02d", cl),
                   arm = carm[cl], x1 = cx1, y = cy)
wr(clus, "clus.csv")
clus_ref <- function(d, covs, case) {
  if (length(covs)) {
    for (v in covs) d[[paste0(v, "_c")]] <- d[[v]] - mean(d[[v]])
    f <- as.formula(paste("y ~ arm * (", paste(paste0(covs, "_c"), collapse = " + "), ")"))
  } else {
    f <- y ~ arm
  }
  fit <- lm(f, data = d)
  g <- length(unique(d$cluster))
  # CR1: sandwich::vcovCL(type = "HC1") with t(G - 1)
  V1 <- vcovCL(fit, cluster = ~cluster, type = "HC1")
  se1 <- sqrt(V1["arm", "arm"])
  q1 <- qt(0.975, g - 1)
  put(paste0(case, "_cr1"), "estimate", coef(fit)["arm"])
  put(paste0(case, "_cr1"), "std_error", se1)
  put(paste0(case, "_cr1"), "conf_low", coef(fit)["arm"] - q1 * se1)
  put(paste0(case, "_cr1"), "conf_high", coef(fit)["arm"] + q1 * se1)
  put(paste0(case, "_cr1"), "p_value", 2 * pt(-abs(coef(fit)["arm"] / se1), g - 1))
  # CR2 with Bell-McCaffrey / Satterthwaite df (clubSandwich)
  ct <- coef_test(fit, vcov = "CR2", cluster = d$cluster, test = "Satterthwaite")
  ci <- conf_int(fit, vcov = "CR2", cluster = d$cluster, test = "Satterthwaite", level = 0.95)
  i <- which(ct$Coef == "arm")
  put(paste0(case, "_cr2"), "estimate", ct$beta[i])
  put(paste0(case, "_cr2"), "std_error", ct$SE[i])
  put(paste0(case, "_cr2"), "df", ct$df_Satt[i])
  put(paste0(case, "_cr2"), "p_value", ct$p_Satt[i])
  put(paste0(case, "_cr2"), "conf_low", ci$CI_L[i])
  put(paste0(case, "_cr2"), "conf_high", ci$CI_U[i])
  # sandwich's own CR2 covariance as a second check of the SE
  V2 <- vcovCL(fit, cluster = ~cluster, type = "HC2")
  put(paste0(case, "_cr2"), "std_error_sandwich", sqrt(V2["arm", "arm"]))
}
clus_ref(clus, character(), "clus")
clus_ref(clus, "x1", "clus_lin")

# ---------------------------------------------------------------- binary outcomes (counts)
bin <- list(a = c(18, 40, 9, 42), zero = c(0, 25, 4, 27), full = c(20, 20, 15, 22))
for (nm in names(bin)) {
  b <- bin[[nm]]; x1 <- b[1]; n1 <- b[2]; x0 <- b[3]; n0 <- b[4]
  case <- paste0("bin_", nm)
  p1 <- x1 / n1; p0 <- x0 / n0
  w1 <- prop.test(x1, n1, correct = FALSE)$conf.int
  w0 <- prop.test(x0, n0, correct = FALSE)$conf.int
  put(case, "rd", p1 - p0)
  put(case, "rd_low", p1 - p0 - sqrt((p1 - w1[1])^2 + (w0[2] - p0)^2))
  put(case, "rd_high", p1 - p0 + sqrt((w1[2] - p1)^2 + (p0 - w0[1])^2))
  put(case, "rd_p_value", suppressWarnings(prop.test(c(x1, x0), c(n1, n0), correct = FALSE)$p.value))
  # risk ratio, log-scale Wald; 0.5 added to every cell only when an arm has no events
  a <- x1; bb <- n1 - x1; cc <- x0; dd <- n0 - x0
  if (a == 0 || cc == 0) { a <- a + 0.5; bb <- bb + 0.5; cc <- cc + 0.5; dd <- dd + 0.5 }
  lrr <- log((a / (a + bb)) / (cc / (cc + dd)))
  se <- sqrt(1 / a - 1 / (a + bb) + 1 / cc - 1 / (cc + dd))
  put(case, "rr", exp(lrr)); put(case, "rr_low", exp(lrr - qnorm(0.975) * se))
  put(case, "rr_high", exp(lrr + qnorm(0.975) * se)); put(case, "rr_p_value", 2 * pnorm(-abs(lrr / se)))
  # odds ratio, log-scale Wald; 0.5 added to every cell only when a cell is zero
  a <- x1; bb <- n1 - x1; cc <- x0; dd <- n0 - x0
  if (min(a, bb, cc, dd) == 0) { a <- a + 0.5; bb <- bb + 0.5; cc <- cc + 0.5; dd <- dd + 0.5 }
  lor <- log(a * dd / (bb * cc))
  se <- sqrt(1 / a + 1 / bb + 1 / cc + 1 / dd)
  put(case, "or", exp(lor)); put(case, "or_low", exp(lor - qnorm(0.975) * se))
  put(case, "or_high", exp(lor + qnorm(0.975) * se)); put(case, "or_p_value", 2 * pnorm(-abs(lor / se)))
}

# ---------------------------------------------------------------- exact permutation test
# With ranks as the outcome, the permutation test of the difference in means is the exact
# Wilcoxon rank-sum test.
py <- round(rnorm(12, 10, 3), 2)
parm <- sample(rep(c(1, 0), c(5, 7)))
wr(data.frame(id = sprintf("r%02d", 1:12), arm = parm, y = py, r = rank(py)), "perm.csv")
put("perm", "p_two_sided", wilcox.test(py[parm == 1], py[parm == 0], exact = TRUE)$p.value)
put("perm", "p_greater", wilcox.test(py[parm == 1], py[parm == 0], exact = TRUE,
                                     alternative = "greater")$p.value)
put("perm", "p_less", wilcox.test(py[parm == 1], py[parm == 0], exact = TRUE,
                                  alternative = "less")$p.value)

# ---------------------------------------------------------------- Mantel-Haenszel over strata
# counts per stratum: events/n in intervention, events/n in control
mh <- data.frame(stratum = c("s1", "s2", "s3"), x1 = c(12, 5, 9), n1 = c(30, 14, 25),
                 x0 = c(7, 2, 6), n0 = c(31, 15, 24))
wr(mh, "mh.csv")
tab <- array(0, dim = c(2, 2, 3))
for (k in 1:3) {
  tab[, , k] <- matrix(c(mh$x1[k], mh$x0[k], mh$n1[k] - mh$x1[k], mh$n0[k] - mh$x0[k]), 2)
}
mt <- mantelhaen.test(tab, correct = FALSE)
put("mh", "or", mt$estimate)
put("mh", "or_low", mt$conf.int[1])
put("mh", "or_high", mt$conf.int[2])
# risk ratio (Greenland-Robins variance) by hand
a <- mh$x1; c0 <- mh$x0; n1 <- mh$n1; n0 <- mh$n0; n <- n1 + n0
num <- sum(a * n0 / n); den <- sum(c0 * n1 / n)
v <- sum((n1 * n0 * (a + c0) - a * c0 * n) / n^2) / (num * den)
put("mh", "rr", num / den)
put("mh", "rr_low", exp(log(num / den) - qnorm(0.975) * sqrt(v)))
put("mh", "rr_high", exp(log(num / den) + qnorm(0.975) * sqrt(v)))

out$value <- sprintf("%.17g", out$value)
write.csv(out, "results.csv", row.names = FALSE, quote = FALSE)
writeLines(c(
  paste("R:", R.version.string),
  paste("sandwich:", as.character(packageVersion("sandwich"))),
  paste("lmtest:", as.character(packageVersion("lmtest"))),
  paste("clubSandwich:", as.character(packageVersion("clubSandwich")))
), "versions.txt")
