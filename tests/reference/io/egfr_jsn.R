# Independent reference for pfseval.io.egfr_jsn and ckd_g_stage.
# JSN eGFR: 194 * Cr^-1.094 * age^-0.287 (* 0.739 if female); Cr in mg/dL.
# Run: Rscript egfr_jsn.R  (writes egfr_jsn_R.csv next to this script)
grid <- expand.grid(creatinine = c(0.45, 0.6, 0.8, 1.0, 1.2, 1.5, 2.0, 3.5, 6.0),
                    age = c(18, 40, 55, 60, 70, 74, 90),
                    sex = c(1L, 2L))
grid$egfr <- 194 * grid$creatinine^(-1.094) * grid$age^(-0.287) *
  ifelse(grid$sex == 2L, 0.739, 1)
# CKD G stage with half-open intervals, via base R cut(right = FALSE)
grid$g_stage <- as.character(cut(grid$egfr, breaks = c(-Inf, 15, 30, 45, 60, 90, Inf),
                                 labels = c("G5", "G4", "G3b", "G3a", "G2", "G1"),
                                 right = FALSE))
write.csv(grid, "egfr_jsn_R.csv", row.names = FALSE)
cat(R.version.string, "\n")
