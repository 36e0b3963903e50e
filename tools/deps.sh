#!/bin/sh
# tools/deps.sh: make sure the Debian packages vmlinux needs to build, test and run its
# example image are installed.
#
#   as root:      installs whatever is missing (apt-get update only when needed)
#   as non-root:  prints the exact apt-get line for what is missing, exits 1
#
# A no-op (one dpkg-query call) when everything is already there.
# Options: --check   only report, never install (exit 1 if something is missing)
#          --help

set -u

REQUIRED="gcc make pkg-config liburing-dev libseccomp-dev libext2fs-dev comerr-dev libcmocka-dev e2fsprogs busybox-static"
# Optional: real User-Mode Linux (linux.uml), which `make bench` compares against.
OPTIONAL="user-mode-linux"

check_only=0
for arg in "$@"; do
	case $arg in
	--check) check_only=1 ;;
	--help | -h)
		sed -n '2,11s/^# \{0,1\}//p' "$0"
		echo "Required: $REQUIRED"
		echo "Optional: $OPTIONAL (for 'make bench' comparisons with real UML)"
		exit 0
		;;
	*) echo "deps.sh: unknown option '$arg'" >&2; exit 2 ;;
	esac
done

# missing PKG...: print the packages among PKG... that are not fully installed.
missing() {
	if ! command -v dpkg-query >/dev/null 2>&1; then
		echo "deps.sh: dpkg-query not found; this script knows Debian/Ubuntu only." >&2
		echo "Needed (Debian names): $REQUIRED" >&2
		exit 1
	fi
	# One call for all packages; unknown packages produce no line and count as missing.
	# shellcheck disable=SC2086
	installed=" $(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "$@" 2>/dev/null |
		awk '$2 ~ /^ii/ { sub(/:.*/, "", $1); printf "%s ", $1 }')"
	for p in "$@"; do
		case "$installed" in
		*" $p "*) ;;
		*) printf '%s ' "$p" ;;
		esac
	done
}

# shellcheck disable=SC2086
need=$(missing $REQUIRED)
need=${need% }
# shellcheck disable=SC2086
opt=$(missing $OPTIONAL)
opt=${opt% }

if [ -z "$need" ]; then
	[ -n "$opt" ] && [ "${DEPS_QUIET:-0}" != 1 ] && [ "$check_only" = 1 ] &&
		echo "deps.sh: optional, not installed: $opt (real UML for 'make bench' comparisons)"
	exit 0
fi

if [ "$check_only" = 1 ] || [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing Debian packages: $need" >&2
	echo "Install them with (as root):" >&2
	echo "  apt-get install $need" >&2
	[ -n "$opt" ] && echo "Optional, for 'make bench' against real UML: apt-get install $opt" >&2
	exit 1
fi

echo "deps.sh: installing missing Debian packages: $need"
export DEBIAN_FRONTEND=noninteractive
# Only refresh the package lists when they are absent or the install cannot find a package.
# shellcheck disable=SC2086
if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1 ||
	! apt-get install -y --no-install-recommends $need; then
	apt-get update || exit 1
	# shellcheck disable=SC2086
	apt-get install -y --no-install-recommends $need || exit 1
fi

# shellcheck disable=SC2086
still=$(missing $REQUIRED)
if [ -n "$still" ]; then
	echo "deps.sh: still missing after apt-get: $still" >&2
	exit 1
fi
[ -n "$opt" ] && echo "deps.sh: optional, not installed: $opt (real UML for 'make bench' comparisons)"
exit 0
