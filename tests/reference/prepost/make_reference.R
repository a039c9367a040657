# Reference values for pfseval.designs.prepost (run: Rscript make_reference.R, cwd = this folder).
# Writes prepost_reference.json; the tests read it and never call R.
suppressPackageStartupMessages(library(jsonlite))
set.seed(20261122)
out <- list(R = R.version.string)

htest <- function(h) list(
  estimate = unname(h$estimate), conf_low = h$conf.int[1], conf_high = h$conf.int[2],
  conf_level = attr(h$conf.int, "conf.level"), p_value = h$p.value,
  statistic = unname(h$statistic))

# --- paired t (n = 30) -------------------------------------------------------------
before <- round(rnorm(30, 140, 12), 1)
after <- round(before - 5 + rnorm(30, 0, 8), 1)
out$t30 <- c(list(before = before, after = after),
  list(l95 = htest(t.test(after, before, paired = TRUE)),
       l90 = htest(t.test(after, before, paired = TRUE, conf.level = 0.9))))

# --- Wilcoxon exact (n = 20, continuous, no ties, no zeros) -------------------------
b <- round(rnorm(20, 7, 2), 3); a <- round(b - 0.8 + rnorm(20, 0, 1.5), 3)
stopifnot(!any(duplicated(abs(a - b))), all(a != b))
out$wx_exact20 <- list(before = b, after = a,
  l95 = htest(wilcox.test(a, b, paired = TRUE, conf.int = TRUE)),
  l80 = htest(wilcox.test(a, b, paired = TRUE, conf.int = TRUE, conf.level = 0.8)))
# --- Wilcoxon exact, n = 6 (requested level not achievable at 0.99) ---------------------
b <- c(5.1, 6.3, 4.4, 7.9, 6.6, 5.5); a <- c(4.0, 6.9, 3.1, 6.2, 6.0, 3.6)
out$wx_exact6 <- list(before = b, after = a,
  l95 = htest(suppressWarnings(wilcox.test(a, b, paired = TRUE, conf.int = TRUE))),
  l99 = htest(suppressWarnings(wilcox.test(a, b, paired = TRUE, conf.int = TRUE,
                                            conf.level = 0.99))))
# --- Wilcoxon normal approximation with ties and zeros (integer checklist scores, n = 40) ---
b <- sample(3:15, 40, replace = TRUE); a <- pmax(0, b + sample(-4:2, 40, replace = TRUE))
x <- a - b; xnz <- x[x != 0]; w <- outer(xnz, xnz, "+"); w <- w[!lower.tri(w)] / 2
out$wx_ties40 <- list(before = b, after = a,
  l95 = htest(suppressWarnings(wilcox.test(a, b, paired = TRUE, conf.int = TRUE,
                                            tol.root = 1e-13))),
  hl_walsh_median = median(w), n_nonzero = length(xnz))
# --- Wilcoxon normal approximation, n = 80 continuous (n >= 50) --------------------------
b <- round(rnorm(80, 100, 15), 2); a <- round(b + 2 + rt(80, 4) * 5, 2)
x <- a - b; w <- outer(x, x, "+"); w <- w[!lower.tri(w)] / 2
out$wx_approx80 <- list(before = b, after = a,
  l95 = htest(wilcox.test(a, b, paired = TRUE, conf.int = TRUE, tol.root = 1e-13)),
  l90 = htest(wilcox.test(a, b, paired = TRUE, conf.int = TRUE, conf.level = 0.9,
                          tol.root = 1e-13)),
  hl_walsh_median = median(w))

# --- McNemar and exact binomial -----------------------------------------------------------
# table: rows = before (0, 1), cols = after (0, 1); counts n00, n01, n10, n11
mc <- function(n00, n01, n10, n11) {
  tab <- matrix(c(n00, n10, n01, n11), 2)  # column-major: [1,1]=n00 [2,1]=n10 [1,2]=n01 [2,2]=n11
  m <- mcnemar.test(tab)
  bt <- binom.test(n01, n01 + n10, 0.5)
  # Newcombe (1998, Stat Med 17:2635) method 10, written out independently here.
  n <- n00 + n01 + n10 + n11
  z <- qnorm(0.975)
  wil <- function(x, n) { p <- x / n; c0 <- (p + z^2 / (2 * n)) / (1 + z^2 / n)
    h <- z * sqrt(p * (1 - p) / n + z^2 / (4 * n^2)) / (1 + z^2 / n); c(c0 - h, c0 + h) }
  p_after <- (n01 + n11) / n; p_before <- (n10 + n11) / n
  wa <- wil(n01 + n11, n); wb <- wil(n10 + n11, n)
  den <- (n00 + n01) * (n10 + n11) * (n00 + n10) * (n01 + n11)
  A <- n11 * n00 - n01 * n10   # Newcombe's corrected phi numerator
  num <- if (A > n / 2) A - n / 2 else if (A >= 0) 0 else A
  phi <- if (den == 0) 0 else num / sqrt(den)
  d <- p_after - p_before
  dl <- sqrt((p_after - wa[1])^2 - 2 * phi * (p_after - wa[1]) * (wb[2] - p_before) +
             (wb[2] - p_before)^2)
  du <- sqrt((wa[2] - p_after)^2 - 2 * phi * (wa[2] - p_after) * (p_before - wb[1]) +
             (p_before - wb[1])^2)
  list(n00 = n00, n01 = n01, n10 = n10, n11 = n11,
       mcnemar_statistic = unname(m$statistic), mcnemar_p = m$p.value,
       binom_p = bt$p.value, diff = d, newcombe10_low = d - dl, newcombe10_high = d + du)
}
# the last case is Cavo et al. (2012) from Fagerland, Lydersen & Laake (2017), ch. 8:
# published Newcombe square-and-add CI -0.1186 to -0.0046 (difference -0.0621, paired as
# after = rows, before = columns) and McNemar CC P = 0.055009
out$mcnemar <- list(mc(20, 15, 5, 30), mc(40, 30, 12, 18), mc(10, 3, 0, 7), mc(8, 2, 9, 1), mc(5, 5, 4, 6),
                    mc(50, 9, 1, 40), mc(80, 6, 16, 59))

# --- share improved: Wilson (prop.test, no continuity correction) and Clopper-Pearson -----
shr <- function(x, n) list(x = x, n = n,
  wilson = prop.test(x, n, correct = FALSE)$conf.int[1:2],
  clopper_pearson = binom.test(x, n)$conf.int[1:2],
  wilson90 = prop.test(x, n, correct = FALSE, conf.level = 0.9)$conf.int[1:2])
out$share <- list(shr(18, 30), shr(0, 12), shr(12, 12), shr(171, 400))

# --- count totals: exact Poisson (poisson.test) and t on per-person changes ------------------
bd <- sample(2:9, 30, replace = TRUE); ad <- pmax(0, bd - sample(0:3, 30, replace = TRUE))
red <- bd - ad
tt <- t.test(red)
out$count <- list(before = bd, after = ad, total = sum(red),
  poisson = poisson.test(sum(red))$conf.int[1:2],
  t_low = 30 * tt$conf.int[1], t_high = 30 * tt$conf.int[2])

# --- regression-to-the-mean adjustment: Welch on changes -------------------------------------
bp <- round(rnorm(35, 150, 8), 1); ap <- round(bp - 8 + rnorm(35, 0, 9), 1)
bc <- round(rnorm(50, 148, 9), 1); ac <- round(bc - 4 + rnorm(50, 0, 9), 1)
h <- t.test(ap - bp, ac - bc, var.equal = FALSE)
out$rtm <- list(before_p = bp, after_p = ap, before_c = bc, after_c = ac,
  l95 = c(htest(h), list(df = unname(h$parameter), std_error = h$stderr)))

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "prepost_reference.json")
