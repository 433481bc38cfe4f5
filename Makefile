# The two commands: `make demo` runs the product, `make test` runs every check.
.PHONY: demo test serve bench clean

demo:  ## install into .venv, build a synthetic county on SQLite, serve http://127.0.0.1:8000
	scripts/bootstrap.sh
	.venv/bin/nowrongdoor demo

test:  ## install dev tools into .venv, then lint, type-check and run the whole suite
	scripts/test.sh

serve:
	scripts/bootstrap.sh
	.venv/bin/nowrongdoor serve

bench:  ## benchmarks (figures printed; see benchmarks/README.md)
	scripts/bootstrap.sh dev
	.venv/bin/python benchmarks/run_all.py

clean:
	rm -rf .venv var
