# The benchmark of issue 9 (bench/run.py): full night, SQL floor, pandas baseline and an
# incremental night on the same generated landing. Results in bench/results/<scale>.json.
PYTHON ?= .venv/bin/python

.PHONY: bench bench-smoke

bench:  ## national scale: about 9 M activity rows, CPU heavy (run it on a quiet machine)
	$(PYTHON) -m bench --scale national

bench-smoke:  ## region scale, 12 months + 1: the CI smoke version, a few minutes
	$(PYTHON) -m bench --scale region --months 12
