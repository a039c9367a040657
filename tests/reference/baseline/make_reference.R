# Reference values for pfseval.designs.baseline (run: Rscript make_reference.R, cwd = this folder).
# Writes baseline_reference.json; the tests read it and never call R.
suppressPackageStartupMessages(library(jsonlite))
out <- list(R = R.version.string)

# A screening-uptake series: eligible people and people screened, 2014-2019 baseline, 2020 evaluation.
year <- 2014:2020
eligible <- c(10210, 10135, 10088, 9960, 9893, 9801, 9750)
screened <- c(1735, 1781, 1830, 1852, 1913, 1949, 2230)
out$series <- list(year = year, eligible = eligible, screened = screened)
past <- year < 2020
d <- data.frame(year = year[past], y = screened[past], n = eligible[past])
d$rate <- d$y / d$n
new <- data.frame(year = 2020)

lmfit <- function(dd) {
  fit <- lm(rate ~ year, data = dd)
  pc <- predict(fit, new, interval = "confidence", se.fit = TRUE)
  pp <- predict(fit, new, interval = "prediction")
  list(fit = unname(pc$fit[1, "fit"]), se_fit = unname(pc$se.fit), df = pc$df,
       sigma = summary(fit)$sigma,
       conf = unname(pc$fit[1, c("lwr", "upr")]), pred = unname(pp[1, c("lwr", "upr")]))
}
out$lm6 <- lmfit(d)                  # all 6 past years
out$lm3 <- lmfit(tail(d, 3))         # the last 3 past years (short series)
pp90 <- predict(lm(rate ~ year, data = d), new, interval = "prediction", level = 0.9)
out$lm6$pred90 <- unname(pp90[1, c("lwr", "upr")])

glmfit <- function(fam, dd, offset = NULL) {
  fit <- if (fam %in% c("binomial", "quasibinomial")) {
    glm(cbind(y, n - y) ~ year, family = get(fam)(), data = dd, offset = offset)
  } else glm(y ~ year, family = get(fam)(), data = dd, offset = offset)
  nd <- new
  p <- predict(fit, nd, type = "link", se.fit = TRUE)
  list(coef = unname(coef(fit)), link = unname(p$fit), se_link = unname(p$se.fit),
       dispersion = summary(fit)$dispersion, df_residual = fit$df.residual)
}
out$glm_binomial <- glmfit("binomial", d)
out$glm_quasibinomial <- glmfit("quasibinomial", d)
out$glm_poisson <- glmfit("poisson", d)
out$glm_quasipoisson <- glmfit("quasipoisson", d)
# A noisier (overdispersed) series for the quasi-likelihood dispersion > 1.
screened2 <- c(1702, 1815, 1790, 1901, 1866, 1990, 2230)
out$series2 <- list(year = year, eligible = eligible, screened = screened2)
d2 <- data.frame(year = year[past], y = screened2[past], n = eligible[past])
d2$rate <- d2$y / d2$n
out$glm2_quasibinomial <- glmfit("quasibinomial", d2)
out$glm2_quasipoisson <- glmfit("quasipoisson", d2)
out$lm2_6 <- lmfit(d2)

# External-trend adjustment: national rates for the same years (offset on the logit scale).
national <- c(0.160, 0.163, 0.167, 0.170, 0.174, 0.178, 0.181)
out$national <- national
fit <- glm(cbind(y, n - y) ~ year + offset(qlogis(national[past])), family = quasibinomial(),
           data = d)
nd <- data.frame(year = 2020)
X0 <- c(1, 2020)
eta <- sum(coef(fit) * X0) + qlogis(national[7])
se <- sqrt(drop(t(X0) %*% vcov(fit) %*% X0))
out$glm_quasibinomial_offset <- list(coef = unname(coef(fit)), link = eta, se_link = se,
                                     dispersion = summary(fit)$dispersion)
# Additive adjustment: OLS on the difference (rate - national).
dd <- d; dd$rate <- d$rate - national[past]
out$lm6_diff <- lmfit(dd)

# Variance of the median of k iid N(0, 1) (k = 2..7), by numerical integration of the
# order-statistic density (odd k) / Monte Carlo-free closed form for k = 2 (variance 1/2).
vmed <- function(k) {
  if (k %% 2 == 1) {
    m <- (k + 1) / 2
    f <- function(x) x^2 * exp(lfactorial(k) - lfactorial(m - 1) - lfactorial(k - m)) *
      pnorm(x)^(m - 1) * pnorm(x, lower.tail = FALSE)^(k - m) * dnorm(x)
    integrate(f, -Inf, Inf, rel.tol = 1e-12)$value
  } else {
    # mean of the two middle order statistics: E[((X_(m)+X_(m+1))/2)^2] via the joint density
    m <- k / 2
    cst <- exp(lfactorial(k) - lfactorial(m - 1) - lfactorial(k - m - 1))
    inner <- function(x) sapply(x, function(xx) integrate(function(y)
      ((xx + y) / 2)^2 * cst * pnorm(xx)^(m - 1) * dnorm(xx) * dnorm(y) *
        pnorm(y, lower.tail = FALSE)^(k - m - 1), xx, Inf, rel.tol = 1e-11)$value)
    integrate(inner, -Inf, Inf, rel.tol = 1e-10)$value
  }
}
out$var_median_std_normal <- sapply(2:7, vmed)

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "baseline_reference.json")
