# Reference numbers for casepool's screening agreement (review/screening/agreement.py),
# from R's psych::cohen.kappa (Debian's r-cran-psych).
#
# Run from the project root:  Rscript tests/reference/agreement_reference.R
# Writes tests/reference/agreement_reference.json (committed; CI does not run R).
# Each case is a two-way table of counts (rows: the first reviewer's decision, columns:
# the second's); psych reports unweighted kappa, its variance (Fleiss, Cohen and Everitt
# 1969) and the normal-theory confidence interval, which it truncates to [-1, 1].

suppressPackageStartupMessages({
  library(psych)
  library(jsonlite)
})

out_file <- file.path("tests", "reference", "agreement_reference.json")

tables <- list(
  # Fleiss, Cohen and Everitt (1969), the 3 x 3 example of 200 subjects (psych's ?cohen.kappa)
  fce1969 = matrix(c(106, 10, 4, 22, 28, 10, 2, 12, 6), ncol = 3, byrow = TRUE),
  # Gwet (2014) Handbook, the abstractors' table (irrCAC::cont3x3abstractors)
  abstractors = matrix(c(13, 0, 0, 0, 20, 7, 0, 4, 56), ncol = 3, byrow = TRUE),
  # Wongpakaran et al. (2013) BMC Med Res Methodol 13:61, schizoid PD, one rater pair
  wongpakaran2013 = matrix(c(13, 2, 1, 3), ncol = 2, byrow = TRUE),
  # title/abstract screening as it usually goes: nearly everything excluded
  screening_skewed = matrix(c(180, 6, 4, 10), ncol = 2, byrow = TRUE),
  # the kappa paradox: 91% agreement, kappa near zero
  paradox = matrix(c(90, 5, 4, 1), ncol = 2, byrow = TRUE),
  # reviewers with very different rates of inclusion (bias)
  unbalanced = matrix(c(20, 15, 2, 3), ncol = 2, byrow = TRUE),
  # include / exclude / maybe, as casepool counts them
  include_exclude_maybe = matrix(c(12, 3, 2, 4, 150, 6, 1, 5, 3), ncol = 3, byrow = TRUE),
  # a small table with a decision one reviewer never used
  small_unused = matrix(c(3, 1, 0, 0, 2, 0, 1, 1, 0), ncol = 3, byrow = TRUE),
  # few records, one disagreement: the upper limit passes 1 and psych sets it to 1
  near_perfect = matrix(c(9, 1, 0, 2), ncol = 2, byrow = TRUE)
)

cases <- lapply(names(tables), function(name) {
  tab <- tables[[name]]
  fit <- cohen.kappa(tab, n.obs = sum(tab), alpha = 0.05)
  list(
    name = name,
    table = tab,
    n = sum(tab),
    kappa = fit$kappa,
    var_kappa = fit$var.kappa,
    se_kappa = sqrt(fit$var.kappa),
    ci_lower = fit$confid[1, 1],
    ci_upper = fit$confid[1, 3],
    agree = sum(diag(tab)) / sum(tab)
  )
})

out <- list(
  generator = "psych::cohen.kappa",
  psych_version = as.character(packageVersion("psych")),
  r_version = paste(R.version$major, R.version$minor, sep = "."),
  cases = cases
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, matrix = "rowmajor"),
           out_file)
cat("wrote", out_file, "with", length(cases), "cases\n")
