# The entry points a newcomer needs. Tests use the pinned tools in ./bin, which `tools` installs.
.PHONY: test tools run clean-tools

test: tools
	cargo test

tools:
	.ci/install-tools

run:
	cargo run --release -- serve

clean-tools:
	rm -rf bin
