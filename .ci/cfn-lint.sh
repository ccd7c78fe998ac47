#!/usr/bin/env bash
# Finds, or installs, a `cfn-lint` that runs (aws-cloudformation/cfn-lint, the
# linter that translates SAM templates), so TestCfnLint lints template.yaml in
# CI. Prints the folder that holds it on stdout, for .ci/run to put first on
# the PATH; says where it came from on stderr. Idempotent, and exits non-zero
# when there is none, since the test then fails anyway (CI=true).
#
# Where it comes from, first that works:
#   1. the PATH (this kind of machine ships it with pip, under pyenv);
#   2. a pyenv Python that has it although the PATH does not reach it (no
#      shims on the PATH, or a shim that points at another Python version);
#   3. Debian's `cfn-lint` package, where the release has one (bookworm has not).
# PyPI is not reachable, and npm's `cfn-lint` is another, unrelated linter, so
# neither is tried.
set -euo pipefail

found() { # $1: a cfn-lint executable
	local v
	v=$("$1" --version 2>/dev/null) || return 1
	echo "cfn-lint: $1 ($v)" >&2
	dirname "$1"
}

if bin=$(command -v cfn-lint) && found "$bin"; then
	exit 0
fi
for bin in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/*/bin/cfn-lint; do
	if [[ -x $bin ]] && found "$bin"; then
		exit 0
	fi
done
if command -v apt-get >/dev/null; then
	apt-get update -qq >&2 || true
	if apt-cache policy cfn-lint 2>/dev/null | grep -q 'Candidate: [0-9]'; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cfn-lint >&2
		if found /usr/bin/cfn-lint; then
			exit 0
		fi
	fi
fi
echo "cfn-lint: none runs and none could be installed (tried the PATH, pyenv's Pythons and Debian's cfn-lint package)" >&2
exit 1
