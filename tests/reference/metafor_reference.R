# Two-stage reference numbers for casepool's meta package, from R's metafor.
#
# Run from the project root:  Rscript tests/reference/metafor_reference.R
# Writes tests/reference/metafor_reference.json (committed; CI does not run R).
# Every measure x tau2 estimator x test on several datasets, plus continuity-correction
# modes, study-level confidence intervals and the failures metafor reports. The GLMM has
# its own script (glmm_reference.R).

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
  library(Hmisc)
})

out_file <- file.path("tests", "reference", "metafor_reference.json")

# ---- datasets ------------------------------------------------------------------------
set.seed(20261125)
k_large <- 150
n_large <- sample(c(1, 1, 1, 2, 3, 5, 8, 12, 20, 35, 60), k_large, replace = TRUE)
p_large <- plogis(rnorm(k_large, mean = 0.4, sd = 0.9))
x_large <- rbinom(k_large, n_large, p_large)

datasets <- list(
  # Pritz (1997) hyperdynamic therapy, 14 studies (metadat; Stijnen et al. 2010)
  pritz1997 = list(events = dat.pritz1997$xi, totals = dat.pritz1997$ni),
  # case reports and small series: n = 1 studies, 0% and 100% studies
  sparse = list(events = c(1, 0, 1, 3, 0, 5, 1, 12, 2, 0, 1, 7),
                totals = c(1, 1, 1, 10, 4, 5, 2, 20, 9, 3, 1, 7)),
  # two studies only
  k2 = list(events = c(4, 15), totals = c(10, 22)),
  # near-homogeneous data: Q below its df, so most estimators give tau2 = 0
  homogeneous = list(events = c(10, 11, 12, 9, 10), totals = c(50, 50, 52, 48, 51)),
  # Miller (1978) Freeman-Tukey example
  miller1978 = list(events = c(3, 6, 10, 1), totals = c(11, 17, 21, 6)),
  # ML's Fisher scoring ends below the likelihood at tau2 = 0: metafor warns, sets tau2 = 0
  local_max = list(events = c(137, 0, 0, 0, 1), totals = c(500, 50, 5, 5, 1)),
  # Fisher scoring fails for REML and EB here (found by a random search): metafor stops
  no_convergence = list(events = c(201, 4247, 0, 0, 1, 0, 0, 0),
                        totals = c(500, 50000, 1, 2, 2, 5, 3, 1)),
  # k = 150, generated above with a fixed seed (the data are written into the JSON)
  large = list(events = x_large, totals = n_large)
)

measures <- c("PR", "PLN", "PLO", "PAS", "PFT")
methods <- c("EE", "DL", "REML", "PM", "ML", "HS", "SJ", "EB", "HE")
tests <- c("z", "knha")

back <- function(measure, totals) {
  switch(measure,
    PR = list(transf = function(x, ...) x, targs = NULL),
    PLN = list(transf = exp, targs = NULL),
    PLO = list(transf = transf.ilogit, targs = NULL),
    PAS = list(transf = transf.iarcsin, targs = NULL),
    PFT = list(transf = transf.ipft.hm, targs = list(ni = totals)))
}

num <- function(x) if (is.null(x) || length(x) == 0 || is.na(x[1])) NULL else unname(x[1])

run_case <- function(name, measure, method, test, cc_mode, cc) {
  ds <- datasets[[name]]
  case <- list(dataset = name, measure = measure, method = method, test = test,
               cc_mode = cc_mode, cc = cc, level = 0.95)
  warns <- character(0)
  result <- withCallingHandlers(tryCatch({
    # casepool's rule: PAS/PFT take no correction in mode only0 (escalc's default add = 0);
    # otherwise the correction is passed explicitly as escalc's add
    if (measure %in% c("PAS", "PFT") && cc_mode == "only0") {
      es <- escalc(measure = measure, xi = ds$events, ni = ds$totals, to = cc_mode)
    } else {
      es <- escalc(measure = measure, xi = ds$events, ni = ds$totals, to = cc_mode, add = cc)
    }
    fit <- rma(yi, vi, data = es, method = method, test = test)
    if (fit$k < length(ds$events)) {
      # metafor drops studies whose yi/vi are not finite (casepool refuses instead)
      stop(paste0("omitted: metafor used ", fit$k, " of ", length(ds$events), " studies"))
    }
    b <- back(measure, ds$totals)
    pr <- predict(fit)
    prb <- predict(fit, transf = b$transf, targs = b$targs)
    tau_ci <- if (method == "EE") NULL else confint(fit)$random[1, 2:3]
    list(
      status = "ok",
      # per-study values are written once per measure (yi, vi) or per estimator (weights)
      yi = if (method == "EE" && test == "z") as.numeric(es$yi) else NULL,
      vi = if (method == "EE" && test == "z") as.numeric(es$vi) else NULL,
      estimate_transformed = num(fit$b), se = num(fit$se),
      ci_lower_transformed = num(fit$ci.lb), ci_upper_transformed = num(fit$ci.ub),
      pi_lower_transformed = if (method == "EE") NULL else num(pr$pi.lb),
      pi_upper_transformed = if (method == "EE") NULL else num(pr$pi.ub),
      estimate = num(prb$pred), ci_lower = num(prb$ci.lb), ci_upper = num(prb$ci.ub),
      pi_lower = if (method == "EE") NULL else num(prb$pi.lb),
      pi_upper = if (method == "EE") NULL else num(prb$pi.ub),
      tau2 = num(fit$tau2),  # 0 for EE: the common-effect model fixes it
      tau2_ci_lower = num(tau_ci[1]), tau2_ci_upper = num(tau_ci[2]),
      i2 = num(fit$I2), h2 = num(fit$H2), q = num(fit$QE), q_pvalue = num(fit$QEp),
      weights = if (test == "z") as.numeric(weights(fit)) else NULL
    )
  }, error = function(e) {
    msg <- conditionMessage(e)
    list(status = if (startsWith(msg, "omitted")) "omitted" else "error", error = msg)
  }),
  warning = function(w) {
    warns <<- c(warns, conditionMessage(w))
    invokeRestart("muffleWarning")
  })
  c(case, result, list(r_warnings = I(warns)))
}

cases <- list()
for (name in names(datasets)) {
  for (measure in measures) for (method in methods) for (test in tests) {
    cases[[length(cases) + 1]] <- run_case(name, measure, method, test, "only0", 0.5)
  }
}
# continuity-correction modes on the sparse data (and 'none', which metafor cannot pool)
for (measure in measures) for (mode in c("all", "if0all", "none")) for (method in c("DL", "REML")) {
  cases[[length(cases) + 1]] <- run_case("sparse", measure, method, "z", mode, 0.5)
}
for (measure in c("PLO", "PFT")) {
  cases[[length(cases) + 1]] <- run_case("sparse", measure, "REML", "knha", "all", 0.25)
  cases[[length(cases) + 1]] <- run_case("pritz1997", measure, "DL", "z", "all", 0.5)
}

# ---- study-level confidence intervals --------------------------------------------------
study_ci <- list()
pairs <- list(c(0, 1), c(1, 1), c(0, 7), c(7, 7), c(3, 10), c(1, 12), c(45, 60), c(58, 68),
              c(2, 300))
for (pair in pairs) {
  x <- pair[1]; n <- pair[2]
  z <- qnorm(0.975)
  cp <- binom.test(x, n)$conf.int
  ws <- suppressWarnings(prop.test(x, n, correct = FALSE)$conf.int)
  sa <- Hmisc::binconf(x, n, method = "asymptotic")[2:3]
  # Agresti & Coull (1998), formula written out (no package for it here)
  nt <- n + z^2; pt <- (x + z^2 / 2) / nt
  ac <- pt + c(-1, 1) * z * sqrt(pt * (1 - pt) / nt)
  study_ci[[length(study_ci) + 1]] <- list(
    events = x, total = n,
    CP = as.numeric(cp), WS = as.numeric(ws),
    SA = pmin(1, pmax(0, as.numeric(sa))), AC = pmin(1, pmax(0, ac)))
}

# ---- meta-regression (rma with mods) on the large dataset --------------------------------
metareg <- list()
es_large <- escalc("PLO", xi = datasets$large$events, ni = datasets$large$totals)
es_large$logn <- log(datasets$large$totals)
es_large$big <- as.numeric(datasets$large$totals >= 20)
for (method in c("DL", "HE", "ML", "REML")) for (test in tests) {
  fit <- rma(yi, vi, mods = ~ logn + big, data = es_large, method = method, test = test)
  metareg[[length(metareg) + 1]] <- list(
    dataset = "large", measure = "PLO", method = method, test = test,
    covariates = list(logn = "log(total)", big = "total >= 20"),
    tau2 = fit$tau2, estimate = as.numeric(fit$b), se = as.numeric(fit$se),
    ci_lower = as.numeric(fit$ci.lb), ci_upper = as.numeric(fit$ci.ub),
    pvalue = as.numeric(fit$pval))
}

# ---- subgroups: separate fits, then the EE model on the subgroup estimates -------------
# casepool's Q-between; subgroups of the sparse data: single-case reports vs series
subgroups <- list()
sg <- ifelse(datasets$sparse$totals == 1, "case report", "case series")
for (measure in c("PLO", "PFT")) for (method in c("DL", "REML")) for (test in tests) {
  fits <- lapply(c("case report", "case series"), function(g) {
    keep <- sg == g
    if (measure %in% c("PAS", "PFT")) {
      es <- escalc(measure, xi = datasets$sparse$events[keep], ni = datasets$sparse$totals[keep])
    } else {
      es <- escalc(measure, xi = datasets$sparse$events[keep], ni = datasets$sparse$totals[keep],
                   add = 0.5)
    }
    rma(yi, vi, data = es, method = method, test = test)
  })
  est <- sapply(fits, function(f) f$b[1]); se <- sapply(fits, function(f) f$se)
  between <- rma(est, sei = se, method = "EE")
  subgroups[[length(subgroups) + 1]] <- list(
    dataset = "sparse", measure = measure, method = method, test = test,
    subgroups = sg, group_estimates = as.numeric(est), group_se = as.numeric(se),
    q_between = between$QE, q_between_pvalue = between$QEp)
}

# ---- leave-one-out (metafor's leave1out) --------------------------------------------------
leave1out_ref <- list()
for (measure in c("PLO", "PFT")) for (test in tests) {
  ds <- datasets$pritz1997
  es <- escalc(measure, xi = ds$events, ni = ds$totals)
  l1o <- leave1out(rma(yi, vi, data = es, method = "REML", test = test))
  leave1out_ref[[length(leave1out_ref) + 1]] <- list(
    dataset = "pritz1997", measure = measure, method = "REML", test = test,
    estimate = as.numeric(l1o$estimate), se = as.numeric(l1o$se),
    ci_lower = as.numeric(l1o$ci.lb), ci_upper = as.numeric(l1o$ci.ub),
    tau2 = as.numeric(l1o$tau2), q = as.numeric(l1o$Q), i2 = as.numeric(l1o$I2))
}

meta_info <- list(
  generated_by = "tests/reference/metafor_reference.R",
  metafor_version = as.character(packageVersion("metafor")),
  r_version = R.version.string,
  prediction_interval = "predict.rma default: same critical value as the CI (z, or t(k-1) for knha)",
  tau2_ci = "confint.rma.uni Q-profile",
  continuity = "escalc add/to; PAS/PFT without add in mode only0"
)

json <- toJSON(list(meta = meta_info, datasets = datasets, cases = cases, study_ci = study_ci,
                 metareg = metareg, subgroups = subgroups, leave1out = leave1out_ref),
               auto_unbox = TRUE, digits = NA, null = "null", na = "null", pretty = FALSE)
writeLines(json, out_file)
cat("wrote", length(cases), "cases and", length(study_ci), "study intervals to", out_file, "\n")
