# Reference values for meta/glmm.py and meta/ipd.py, written by metafor and lme4.
#
# Run from the project root (not in CI):
#   Rscript tests/reference/glmm_reference.R
# It writes tests/reference/glmm_reference.json. Every dataset (including the ones
# generated here with a fixed seed) is written into the JSON, so the tests need no R.
#
# GLMM cases: metafor::rma.glmm(measure = "PLO", method = "ML", nAGQ = q), i.e. the
# binomial-normal model fitted by lme4::glmer(cbind(x, n - x) ~ 1 + (1 | study),
# family = binomial, nAGQ = q). We record coef, se, tau2, QE.Wld/QE.LRT and their
# p-values, I2, H2, the log-likelihoods of the common-proportion glm (loglik_common, metafor's
# ll.FE) and of the saturated glm (loglik_saturated_glm, its ll.QE), checking that
# QE.LRT = max(0, -2 (ll.FE - ll.QE)) as rma.glmm computes it, metafor's logLik (ll.QE - deviance(glmer)/2, i.e. the conditional
# log-likelihood at the random-effect modes) and the marginal log-likelihood logLik()
# of the same glmer fit (lme4 reports it relative to the saturated model when nAGQ > 1, so
# loglik_saturated is recorded too). With nAGQ = 1 the default PIRLS tolerance of lme4
# (tolPwrss = 1e-7) makes its Laplace objective noisy enough to move the estimates by up to
# 1e-3 (and the finite-difference SE by more), so nAGQ = 1 cases use tolPwrss = 1e-12; the
# nAGQ > 1 cases use lme4's defaults (control recorded per case). Cases metafor refuses (k = 1, no events anywhere) record
# metafor's error message instead.
#
# IPD cases: lme4::glmer(outcome ~ covariates + (1 | study), family = binomial, nAGQ = q).

suppressMessages({
  library(metafor)
  library(lme4)
  library(jsonlite)
})

glmm_case <- function(name, x, n, nagq = 7, source = "", tight = nagq == 1) {
  out <- list(name = name, source = source, events = I(as.integer(x)), totals = I(as.integer(n)),
              nagq = nagq, glmer_control = if (tight) "tolPwrss = 1e-12" else "default")
  ctrl <- if (tight) glmerControl(tolPwrss = 1e-12) else glmerControl()
  warns <- character(0)
  res <- withCallingHandlers(
    tryCatch(rma.glmm(measure = "PLO", xi = x, ni = n, method = "ML", nAGQ = nagq,
                      control = list(glmerCtrl = list(tolPwrss = ctrl$tolPwrss))),
             error = function(e) e),
    warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") })
  if (inherits(res, "error")) {
    out$metafor_error <- conditionMessage(res)
    return(out)
  }
  d <- data.frame(x = x, n = n, study = factor(seq_along(x)))
  g <- suppressMessages(suppressWarnings(
    glmer(cbind(x, n - x) ~ 1 + (1 | study), data = d, family = binomial, nAGQ = nagq,
          control = ctrl)))
  stopifnot(abs(fixef(g)[[1]] - res$beta[1]) < 1e-10)
  # QE.LRT as rma.glmm computes it for measure "PLO": the saturated binomial glm (one
  # proportion per study) against the common-proportion glm, k - 1 df
  ll_common <- c(logLik(suppressWarnings(glm(cbind(x, n - x) ~ 1, family = binomial))))
  ll_sat_glm <- c(logLik(suppressWarnings(
    glm(cbind(x, n - x) ~ -1 + study, data = d, family = binomial))))
  stopifnot(abs(res$QE.LRT - max(0, -2 * (ll_common - ll_sat_glm))) < 1e-8,
            res$QE.df == length(x) - 1)
  c(out, list(
    mu = res$beta[1], se = res$se, tau2 = res$tau2,
    qe_wald = res$QE.Wld, qe_wald_pvalue = res$QEp.Wld,
    qe_lrt = res$QE.LRT, qe_lrt_pvalue = res$QEp.LRT, qe_df = res$QE.df,
    i2 = res$I2, h2 = res$H2,
    loglik_metafor = c(logLik(res)), loglik_glmer = c(logLik(g)),
    loglik_saturated = sum(dbinom(x, n, x / n, log = TRUE)),
    loglik_common = ll_common, loglik_saturated_glm = ll_sat_glm,
    warnings = I(warns)))
}

ipd_case <- function(name, d, covs, nagq = 7, source = "") {
  f <- if (length(covs)) paste("outcome ~", paste(covs, collapse = " + "), "+ (1 | study)")
       else "outcome ~ 1 + (1 | study)"
  ctrl <- if (nagq == 1) glmerControl(tolPwrss = 1e-12) else glmerControl()
  g <- suppressMessages(suppressWarnings(
    glmer(as.formula(f), data = d, family = binomial, nAGQ = nagq, control = ctrl)))
  vc <- as.matrix(vcov(g))
  list(name = name, source = source, nagq = nagq, formula = f,
       glmer_control = if (nagq == 1) "tolPwrss = 1e-12" else "default",
       outcome = I(as.integer(d$outcome)), study = I(as.character(d$study)),
       covariates = lapply(setNames(covs, covs), function(v) I(d[[v]])),
       coef_names = I(names(fixef(g))), coef = I(unname(fixef(g))), se = I(unname(sqrt(diag(vc)))),
       tau2 = unname(getME(g, "theta"))^2, loglik = c(logLik(g)))
}

cases <- list()
add <- function(case) cases[[length(cases) + 1]] <<- case

pritz <- metadat::dat.pritz1997
for (q in c(1, 3, 7, 15))
  add(glmm_case(paste0("pritz1997_nagq", q), pritz$xi, pritz$ni, q,
                "metadat::dat.pritz1997 (Zhou et al. 1999)"))
niel <- metadat::dat.nielweise2007
for (q in c(1, 7)) {
  add(glmm_case(paste0("nielweise2007_control_nagq", q), niel$ci, niel$n2i, q,
                "metadat::dat.nielweise2007, standard catheters (Stijnen et al. 2010, Table II)"))
  add(glmm_case(paste0("nielweise2007_treated_nagq", q), niel$ai, niel$n1i, q,
                "metadat::dat.nielweise2007, anti-infective catheters (Stijnen et al. 2010, Table II)"))
}
add(glmm_case("rtx_clinical", c(4, 1, 0), c(8, 1, 1), 7,
              "rituximab calcinosis example: Narvaez 2019 4/8, Daoussis 2012 1/1, Poormoghim 2016 0/1"))
add(glmm_case("rtx_radiological", c(2, 1, 0), c(8, 1, 1), 7, "as rtx_clinical, radiological response"))
add(glmm_case("homogeneous_tau2_zero", c(10, 11, 9, 10), c(20, 20, 20, 20), 7, "hand-made"))
add(glmm_case("homogeneous_unequal_n", c(3, 12, 30, 6), c(10, 40, 100, 20), 7, "hand-made"))
add(glmm_case("k2", c(3, 12), c(10, 15), 7, "hand-made"))
add(glmm_case("k2_nagq1", c(3, 12), c(10, 15), 1, "hand-made"))
add(glmm_case("zero_and_all_events", c(0, 5, 2, 0, 1, 7, 3, 0, 9), c(5, 5, 10, 1, 1, 12, 3, 20, 11), 7,
              "hand-made: studies with 0 and with all events"))
add(glmm_case("zero_and_all_events_nagq1", c(0, 5, 2, 0, 1, 7, 3, 0, 9), c(5, 5, 10, 1, 1, 12, 3, 20, 11), 1,
              "hand-made: studies with 0 and with all events"))
add(glmm_case("case_reports", c(1, 0, 1, 1, 0, 1, 1, 5, 0, 1), c(1, 1, 1, 1, 1, 1, 1, 9, 1, 1), 7,
              "hand-made: nine n = 1 case reports and one series of 9"))
add(glmm_case("high_heterogeneity", c(1, 18, 2, 25, 9, 40), c(30, 20, 40, 26, 10, 45), 7, "hand-made"))
add(glmm_case("sparse_k12", c(1, 0, 1, 3, 0, 5, 1, 12, 2, 0, 1, 7),
              c(1, 1, 1, 10, 4, 5, 2, 20, 9, 3, 1, 7), 7,
              "the 'sparse' data of metafor_reference.R: n = 1 reports, 0% and 100% studies; the Wald Q is near 0, the LRT is not"))
add(glmm_case("single_cases_and_series", c(1, 1, 0, 1, 0, 1, 1, 0, 6, 9, 2, 1),
              c(1, 1, 1, 1, 1, 1, 1, 1, 10, 12, 9, 2), 7,
              "hand-made: eight n = 1 case reports and four series"))
add(glmm_case("one_study", 3, 10, 7, "hand-made: k = 1"))
add(glmm_case("no_events", c(0, 0, 0), c(5, 3, 1), 7, "hand-made: no events anywhere"))

set.seed(20260115)
gen <- function(k, mu, tau, lambda) {
  n <- 1 + rpois(k, lambda)
  x <- rbinom(k, n, plogis(rnorm(k, mu, tau)))
  list(x = x, n = n)
}
g <- gen(30, -0.5, 0.8, 6); add(glmm_case("generated_k30", g$x, g$n, 7, "generated, seed 20260115"))
g <- gen(100, -1, 0.7, 8); add(glmm_case("generated_k100", g$x, g$n, 7, "generated, seed 20260115"))
add(glmm_case("generated_k100_nagq1", g$x, g$n, 1, "as generated_k100"))
g <- gen(150, -3, 0.5, 4); add(glmm_case("generated_k150_rare", g$x, g$n, 7, "generated, seed 20260115: rare events, many zeros"))
g <- gen(120, 0.3, 0.0, 3); add(glmm_case("generated_k120_homogeneous_small_n", g$x, g$n, 7, "generated, seed 20260115: tau = 0, small n"))
g <- gen(400, 0.8, 1.2, 15); add(glmm_case("generated_k400", g$x, g$n, 7, "generated, seed 20260115"))

# IPD: patient rows with a random study intercept.
set.seed(20260116)
make_ipd <- function(sizes, b0, b_age, b_female, tau) {
  study <- rep(sprintf("S%02d", seq_along(sizes)), sizes)
  u <- rnorm(length(sizes), 0, tau)[rep(seq_along(sizes), sizes)]
  age <- round(rnorm(length(study), 50, 12))
  female <- rbinom(length(study), 1, 0.6)
  outcome <- rbinom(length(study), 1, plogis(b0 + b_age * (age - 50) + b_female * female + u))
  data.frame(study = study, age = age, female = female, outcome = outcome)
}
ipd_cases <- list()
d1 <- make_ipd(c(8, 1, 1, 1, 12, 1, 5, 20, 1, 3, 15, 1, 6), 0.2, 0.04, -0.6, 0.8)
ipd_cases[[1]] <- ipd_case("ipd_age_female", d1, c("age", "female"), 7, "generated, seed 20260116")
ipd_cases[[2]] <- ipd_case("ipd_age_female_nagq1", d1, c("age", "female"), 1, "as ipd_age_female")
ipd_cases[[3]] <- ipd_case("ipd_intercept_only", d1, character(0), 7, "as ipd_age_female")
d2 <- make_ipd(c(30, 25, 1, 1, 40, 2, 18, 1, 22, 35, 10), -0.8, 0.02, 0.5, 0.4)
ipd_cases[[4]] <- ipd_case("ipd_age", d2, c("age"), 7, "generated, seed 20260116")
ipd_cases[[5]] <- ipd_case("ipd_age_female_2", d2, c("age", "female"), 7, "generated, seed 20260116")
d3 <- data.frame(study = c(rep("Narvaez 2019", 8), "Daoussis 2012", "Poormoghim 2016"),
                 outcome = c(1, 1, 1, 1, 0, 0, 0, 0, 1, 0))
ipd_cases[[6]] <- ipd_case("ipd_rtx_rows", d3, character(0), 7,
                           "rituximab calcinosis clinical response as patient rows")

out <- list(
  generated_by = "tests/reference/glmm_reference.R",
  r_version = R.version.string,
  metafor_version = as.character(packageVersion("metafor")),
  lme4_version = as.character(packageVersion("lme4")),
  glmm_cases = cases,
  ipd_cases = ipd_cases)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"),
           "tests/reference/glmm_reference.json")
cat("wrote", length(cases), "GLMM cases and", length(ipd_cases), "IPD cases\n")
