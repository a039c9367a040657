# Reference values for pfseval.designs.psm.marginal_effect (g-computation after matching) and
# pfseval.designs.psm.ipw / aipw (weighting cross-check), on the LaLonde data.
#
# Run from this folder:  Rscript make_reference.R
# Inputs: ../psm/lalonde/lalonde.csv, nn2_pairs.csv (MatchIt 4.7.2 2:1 pairs, copied from
# ../psm/lalonde/), rep2_pairs.csv (2:1 matching with replacement; pairs only, the matching is
# not what is tested here).
# marginaleffects is not packaged for Debian, so the g-computation and its delta-method standard
# errors are computed by hand: glm/lm + sandwich::vcovCL + a central-difference Jacobian, which
# is what marginaleffects::avg_comparisons(fit, variables = "treat", vcov = ~subclass,
# newdata = subset(treat == 1)) does.
suppressPackageStartupMessages({library(sandwich)})
options(digits = 17)
d <- read.csv("../psm/lalonde/lalonde.csv")
d$race <- factor(d$race)
d$employed78 <- as.integer(d$re78 > 0)
covs <- c("age", "educ", "race", "married", "nodegree", "re74", "re75")

long_data <- function(pairs, data = d) {
  # one row per matched-set member: the focal unit (first column; weight 1) and its k
  # matches (1/k each), as MatchIt's get_matches()
  rows <- list()
  for (s in seq_len(nrow(pairs))) {
    ctrl <- unlist(pairs[s, -1])
    ctrl <- ctrl[!is.na(ctrl)]
    if (length(ctrl) == 0) next
    ids <- c(pairs[s, 1], ctrl)
    rows[[length(rows) + 1]] <- data.frame(id = ids, subclass = s,
                                           focal = c(TRUE, rep(FALSE, length(ctrl))),
                                           weights = c(1, rep(1 / length(ctrl), length(ctrl))))
  }
  l <- do.call(rbind, rows)
  merge(l, data, by = "id", sort = FALSE)
}

# Five-point central differences (error O(h^4)). scale[j] is the typical size of what
# multiplies parameter j (the largest |x| of its model column, or 1), so that a step changes
# the linear predictor by ~1e-4 whatever the units (earnings in dollars need tiny steps).
jac <- function(f, b, scale = rep(1, length(b))) {
  sapply(seq_along(b), function(j) {
    h <- 1e-4 / max(1, scale[j]) * max(1, abs(b[j]))
    e <- rep(0, length(b)); e[j] <- h
    (-f(b + 2 * e) + 8 * f(b + e) - 8 * f(b - e) + f(b - 2 * e)) / (12 * h)
  })
}

gcomp <- function(md, outcome, twoway, covs = get("covs", envir = globalenv()),
                  unit = "id", binary = outcome == "employed78") {
  fml <- as.formula(paste(outcome, "~ treat * (", paste(covs, collapse = " + "), ")"))
  fit <- if (binary) glm(fml, data = md, weights = weights, family = quasibinomial) else
    lm(fml, data = md, weights = weights)
  V <- if (twoway) vcovCL(fit, cluster = md[, c("subclass", unit)]) else
    vcovCL(fit, cluster = ~subclass)
  nd <- md[md$focal, ]  # the treated for the ATT, the controls for the ATC
  n1 <- nd; n1$treat <- 1
  n0 <- nd; n0$treat <- 0
  X1 <- model.matrix(delete.response(terms(fit)), n1)
  X0 <- model.matrix(delete.response(terms(fit)), n0)
  inv <- if (binary) plogis else identity
  mus <- function(b) c(mean(inv(X1 %*% b)), mean(inv(X0 %*% b)))
  effs <- list(
    difference = function(b) { m <- mus(b); m[1] - m[2] },
    logRR = function(b) { m <- mus(b); log(m[1] / m[2]) },
    logOR = function(b) { m <- mus(b); log(m[1] / (1 - m[1])) - log(m[2] / (1 - m[2])) })
  if (!binary) effs <- effs["difference"]
  b <- coef(fit)
  out <- do.call(rbind, lapply(names(effs), function(nm) {
    f <- effs[[nm]]
    J <- matrix(jac(f, b, apply(abs(X1), 2, max)), nrow = 1)
    data.frame(effect = nm, estimate = f(b), std_error = sqrt(drop(J %*% V %*% t(J))),
               mu_treated = mus(b)[1], mu_control = mus(b)[2], n_rows = nrow(md),
               n_sets = length(unique(md$subclass)))
  }))
  out
}

res <- list()
for (case in c("nn2", "rep2")) {
  pairs <- read.csv(paste0(case, "_pairs.csv"))
  md <- long_data(pairs)
  for (y in c("re78", "employed78")) {
    r <- gcomp(md, y, twoway = case == "rep2")
    res[[length(res) + 1]] <- cbind(case = case, outcome = y, r)
  }
}
# ---- MatchIt 4.7.2's own matched sets (../psm/matchit472): tied categorical data with a
# variable ratio, the ATC with reuse, and a person-year panel matched with unit.id; outcomes are
# simulated here (seeded) and stored, so Python reads the same values
set.seed(13)
ties <- read.csv("../psm/matchit472/ties.csv", stringsAsFactors = TRUE)
lin <- with(ties, -0.3 + 0.4 * (agegrp == "70-74") - 0.3 * (sex == "F") + 0.5 * (smoke == "yes") +
              0.2 * (insurer == "B") + treat * (0.5 + 0.3 * (sex == "M")))
ties$yb <- rbinom(nrow(ties), 1, plogis(lin))
ties$y <- lin * 2 + rnorm(nrow(ties))
panel <- read.csv("../psm/matchit472/panel.csv")
plin <- with(panel, -6 + 0.04 * age + 0.3 * male + 0.01 * sbp + 0.5 * hba1c + treat * 0.5)
panel$yb <- rbinom(nrow(panel), 1, plogis(plin))
panel$y <- with(panel, 0.05 * age + 0.5 * male + 0.02 * sbp + 0.8 * hba1c +
                  treat * (1 + 0.3 * (hba1c - 6))) + rnorm(nrow(panel))
write.csv(ties[, c("id", "y", "yb")], "ties_outcomes.csv", row.names = FALSE)
write.csv(panel[, c("id", "y", "yb")], "panel_outcomes.csv", row.names = FALSE)
mi <- list(
  ties_varratio = list(data = ties, covs = c("agegrp", "sex", "smoke", "insurer"), unit = "id"),
  ties_atc_reuse5 = list(data = ties, covs = c("agegrp", "sex", "smoke", "insurer"), unit = "id"),
  panel_unitid_nn2_cal = list(data = panel, covs = c("age", "male", "sbp", "hba1c"),
                              unit = "person"))
for (case in names(mi)) {
  cs <- mi[[case]]
  pairs <- read.csv(paste0("../psm/matchit472/", case, "_mm.csv"))
  md <- long_data(pairs, cs$data)
  twoway <- any(duplicated(md[[cs$unit]]))
  for (y in c("y", "yb")) {
    r <- gcomp(md, y, twoway = twoway, covs = cs$covs, unit = cs$unit, binary = y == "yb")
    res[[length(res) + 1]] <- cbind(case = case, outcome = y, r)
  }
}
write.csv(do.call(rbind, res), "gcomp.csv", row.names = FALSE)

# ---- IPW and AIPW (ATT) with M-estimation sandwiches over the stacked estimating equations
X <- model.matrix(as.formula(paste("~", paste(covs, collapse = " + "))), d)
t <- d$treat
k <- ncol(X)
ps <- glm(treat ~ age + educ + race + married + nodegree + re74 + re75, data = d,
          family = binomial)
g <- coef(ps)
sandwich_m <- function(psi, theta, scale) {
  P <- psi(theta); n <- nrow(P)
  A <- -jac(function(th) colMeans(psi(th)), theta, scale)
  B <- crossprod(P) / n
  Ai <- solve(A)
  Ai %*% B %*% t(Ai) / n
}
wres <- list()
for (y_name in c("re78", "employed78")) {
  y <- d[[y_name]]
  binary <- y_name == "employed78"
  odds <- exp(drop(X %*% g))
  w <- ifelse(t == 1, 1, odds)
  # IPW: the coefficient of treat in lm(y ~ treat, weights = w) is the Hájek contrast
  ipw_fit <- lm(y ~ t, weights = w)
  mu1 <- mean(y[t == 1]); mu0 <- sum((1 - t) * odds * y) / sum((1 - t) * odds)
  psi_ipw <- function(th) {
    gg <- th[1:k]; e <- plogis(drop(X %*% gg)); o <- exp(drop(X %*% gg))
    cbind(X * (t - e), t * (y - th[k + 1]), (1 - t) * o * (y - th[k + 2]))
  }
  xs <- apply(abs(X), 2, max)
  V <- sandwich_m(psi_ipw, c(g, mu1, mu0), c(xs, 1, 1))
  gr <- c(rep(0, k), 1, -1)
  wres[[length(wres) + 1]] <- data.frame(
    method = "ipw", outcome = y_name, estimate = mu1 - mu0,
    lm_coefficient = unname(coef(ipw_fit)[2]), std_error = sqrt(drop(gr %*% V %*% gr)))
  # AIPW: outcome model on the controls
  om <- if (binary) glm(y ~ X - 1, subset = t == 0, family = binomial) else lm(y ~ X - 1, subset = t == 0)
  b <- coef(om)
  m0 <- function(bb) { lin <- drop(X %*% bb); if (binary) plogis(lin) else lin }
  r <- y - m0(b)
  e1 <- mean(r[t == 1]); e0 <- sum((1 - t) * odds * r) / sum((1 - t) * odds)
  psi_aipw <- function(th) {
    gg <- th[1:k]; bb <- th[(k + 1):(2 * k)]
    e <- plogis(drop(X %*% gg)); o <- exp(drop(X %*% gg)); res <- y - m0(bb)
    cbind(X * (t - e), X * ((1 - t) * res), t * (res - th[2 * k + 1]),
          (1 - t) * o * (res - th[2 * k + 2]))
  }
  V <- sandwich_m(psi_aipw, c(g, b, e1, e0), c(xs, xs, 1, 1))
  gr <- c(rep(0, 2 * k), 1, -1)
  wres[[length(wres) + 1]] <- data.frame(
    method = "aipw", outcome = y_name, estimate = e1 - e0, lm_coefficient = NA,
    std_error = sqrt(drop(gr %*% V %*% gr)))
}
write.csv(do.call(rbind, wres), "weighting.csv", row.names = FALSE)

writeLines(c(R.version.string, paste("sandwich", packageVersion("sandwich"))), "versions.txt")
