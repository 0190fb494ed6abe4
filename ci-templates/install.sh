#!/bin/sh
# Installs stilt from a GitHub release asset (static musl binaries for Linux x86_64/aarch64,
# macOS x86_64/arm64), verifying its SHA-256, and falls back to `cargo install --locked` when no
# asset can be downloaded. POSIX sh. The GitHub Action runs this file, the CircleCI orb includes
# it (`<<include(scripts/install.sh)>>`), the GitLab template and component embed it verbatim
# (ci-templates/embed-install.py; tests/integration/ci_action.rs checks that they match).
#
#   STILT_VERSION            1.2.3 or v1.2.3 (that release), v1 or v1.2 (the newest release of that
#                            series) or latest (default: the action's ref when it is one of these
#                            forms, so `@v0` installs the newest v0.x; else latest)
#   STILT_REPOSITORY         owner/name of the repository with the releases
#   STILT_RELEASES_URL       release list to pick a series' newest release from (default: the
#                            GitHub API, /repos/<repository>/releases; STILT_GITHUB_TOKEN if set)
#   STILT_INSTALL_DIR        where the binary goes (default: the runner's tool cache or ~/.local/bin)
#   STILT_BIN                use this binary instead of downloading one (a local build, tests)
#   STILT_DOWNLOAD_BASE      base URL of the release assets (default: the GitHub release)
#   STILT_NO_CARGO_FALLBACK  1 = fail instead of building from source when the download fails
#
# Exit codes: 0 installed; 2 bad input (version); 4 unusable environment (unsupported OS/arch,
# download or checksum failure). Errors are one line: `::error` on GitHub, `Error:` elsewhere.
# shellcheck disable=SC2015,SC2016 # `a && b || fail` is meant; $PATH is written literally
(
  set -eu

  stilt_fail() {
    if [ "${GITHUB_ACTIONS:-}" = true ]; then
      printf '::error title=stilt install::%s\n' "$(printf '%s' "$2" | sed 's/%/%25/g')"
    else
      printf 'Error: stilt install: %s\n' "$2" >&2
    fi
    exit "$1"
  }

  stilt_sha256() {
    if command -v sha256sum >/dev/null 2>&1; then
      sha256sum "$1" | cut -d ' ' -f 1
    else
      shasum -a 256 "$1" | cut -d ' ' -f 1
    fi
  }

  stilt_installed() { # path version
    if ! "$1" version >/dev/null 2>&1; then
      stilt_fail 4 "$1 does not run on this machine"
    fi
    if [ -n "${GITHUB_OUTPUT:-}" ]; then
      printf 'path=%s\nversion=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
    fi
    if [ -n "${GITHUB_PATH:-}" ]; then
      dirname "$1" >>"$GITHUB_PATH"
    fi
    if [ "${CIRCLECI:-}" = true ] && [ -n "${BASH_ENV:-}" ]; then
      printf 'export PATH="%s:$PATH"\n' "$(dirname "$1")" >>"$BASH_ENV"
    fi
    echo "stilt installed: $1 ($("$1" version 2>/dev/null | head -n 1))"
  }

  dir=${STILT_INSTALL_DIR:-}
  case "$dir" in \~/*) dir=$HOME/${dir#\~/} ;; esac

  if [ -n "${STILT_BIN:-}" ]; then
    case "$STILT_BIN" in /*) bin=$STILT_BIN ;; *) bin=$PWD/$STILT_BIN ;; esac
    [ -f "$bin" ] && [ -x "$bin" ] || stilt_fail 4 "STILT_BIN=$STILT_BIN is not an executable file"
    if [ -n "$dir" ]; then
      mkdir -p "$dir" && ln -sf "$bin" "$dir/stilt" || stilt_fail 4 "cannot link $bin into $dir"
      bin=$dir/stilt
    fi
    stilt_installed "$bin" local
    exit 0
  fi

  release_re='^v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$'
  series_re='^v?[0-9]+(\.[0-9]+)?$'
  version=${STILT_VERSION:-}
  if [ -z "$version" ]; then
    ref=${STILT_ACTION_REF:-${GITHUB_ACTION_REF:-}}
    if printf '%s' "$ref" | grep -Eq "$release_re|$series_re"; then
      version=$ref
    else
      version=latest
    fi
  fi
  if [ "$version" != latest ] && ! printf '%s' "$version" | grep -Eq "$release_re|$series_re"; then
    stilt_fail 2 "version '$version' is not a release such as 1.2.3 or v1.2.3, a series such as v1 or v1.2, nor 'latest'"
  fi
  version=${version#v}
  repo=${STILT_REPOSITORY:-${GITHUB_ACTION_REPOSITORY:-}}

  if printf '%s' "$version" | grep -Eq "$series_re"; then
    # a major (or major.minor) series: its newest release, never a pre-release (1.2.3-rc.1)
    if [ -n "${STILT_RELEASES_URL:-}" ]; then
      list=$STILT_RELEASES_URL
    elif [ -n "$repo" ]; then
      list="https://api.github.com/repos/$repo/releases?per_page=100"
    else
      stilt_fail 2 "STILT_REPOSITORY (owner/name) is not set: cannot find the newest v$version release"
    fi
    command -v curl >/dev/null 2>&1 || stilt_fail 4 "curl is needed to download stilt"
    set --
    if [ -n "${STILT_GITHUB_TOKEN:-}" ] && [ -z "${STILT_RELEASES_URL:-}" ]; then
      set -- -H "Authorization: Bearer $STILT_GITHUB_TOKEN"
    fi
    releases=$(curl -fsSL --retry 3 "$@" "$list" 2>/dev/null) || stilt_fail 4 "cannot list the releases at $list"
    series=$(printf '%s' "$version" | sed 's/\./\\./g')
    newest=$(printf '%s\n' "$releases" | grep -o '"tag_name" *: *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/' |
      sed 's/^v//' | grep -E "^$series\.[0-9]+(\.[0-9]+)?$" | grep -E '^[0-9]+\.[0-9]+\.[0-9]+$' |
      sort -t . -k 1,1n -k 2,2n -k 3,3n | tail -n 1) || true
    [ -n "$newest" ] || stilt_fail 4 "no v$version.x release of stilt found at $list"
    echo "stilt install: v$version resolves to the newest release of that series, v$newest"
    version=$newest
  fi

  os=${RUNNER_OS:-$(uname -s)}
  arch=${RUNNER_ARCH:-$(uname -m)}
  case "$os" in
    Linux | linux) os=unknown-linux-musl ;;
    macOS | Darwin | darwin) os=apple-darwin ;;
    *) stilt_fail 4 "unsupported runner $os/$arch: stilt ships binaries for Linux and macOS on x86_64 and arm64" ;;
  esac
  case "$arch" in
    X64 | x86_64 | amd64) arch=x86_64 ;;
    ARM64 | aarch64 | arm64) arch=aarch64 ;;
    *) stilt_fail 4 "unsupported runner ${RUNNER_OS:-$(uname -s)}/$arch: stilt ships binaries for Linux and macOS on x86_64 and arm64" ;;
  esac
  target=$arch-$os
  asset=stilt-$target.tar.gz

  if [ -n "${STILT_DOWNLOAD_BASE:-}" ]; then
    base=${STILT_DOWNLOAD_BASE%/}
  elif [ -z "$repo" ]; then
    stilt_fail 2 "STILT_REPOSITORY (owner/name) is not set: cannot tell where to download stilt from"
  elif [ "$version" = latest ]; then
    base=https://github.com/$repo/releases/latest/download
  else
    base=https://github.com/$repo/releases/download/v$version
  fi

  if [ -n "$dir" ]; then
    :
  elif [ -n "${RUNNER_TOOL_CACHE:-}" ]; then
    dir=$RUNNER_TOOL_CACHE/stilt/$version/$target
  else
    dir=$HOME/.local/bin
  fi
  mkdir -p "$dir" || stilt_fail 4 "cannot create the install directory $dir"
  if ! command -v sha256sum >/dev/null 2>&1 && ! command -v shasum >/dev/null 2>&1; then
    stilt_fail 4 "neither sha256sum nor shasum is available to verify the download"
  fi
  command -v curl >/dev/null 2>&1 || stilt_fail 4 "curl is needed to download stilt"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT

  if curl -fsSL --retry 3 -o "$tmp/$asset" "$base/$asset" 2>"$tmp/curl.err" &&
    curl -fsSL --retry 3 -o "$tmp/$asset.sha256" "$base/$asset.sha256" 2>>"$tmp/curl.err"; then
    expected=$(cut -d ' ' -f 1 <"$tmp/$asset.sha256")
    actual=$(stilt_sha256 "$tmp/$asset")
    if [ "$expected" != "$actual" ]; then
      stilt_fail 4 "checksum mismatch for $asset: expected $expected, got $actual"
    fi
    tar -xzf "$tmp/$asset" -C "$tmp" stilt 2>"$tmp/tar.err" || stilt_fail 4 "$asset has no stilt binary"
    cp "$tmp/stilt" "$dir/stilt.tmp" && chmod 0755 "$dir/stilt.tmp" && mv "$dir/stilt.tmp" "$dir/stilt" ||
      stilt_fail 4 "cannot write $dir/stilt"
    stilt_installed "$dir/stilt" "$version"
    exit 0
  fi

  why=$(head -n 1 "$tmp/curl.err" 2>/dev/null || true)
  if [ "${STILT_NO_CARGO_FALLBACK:-}" = 1 ]; then
    stilt_fail 4 "could not download $base/$asset (${why:-no reason given})"
  fi
  if ! command -v cargo >/dev/null 2>&1; then
    stilt_fail 4 "could not download $base/$asset (${why:-no reason given}) and cargo is not installed to build stilt instead"
  fi
  [ -n "$repo" ] || stilt_fail 2 "STILT_REPOSITORY (owner/name) is not set: cannot tell where to build stilt from"
  echo "stilt install: no release asset at $base/$asset (${why:-no reason given}); building with cargo install --locked" >&2
  if [ "$version" = latest ]; then
    set -- --git "https://github.com/$repo"
  else
    set -- --git "https://github.com/$repo" --tag "v$version"
  fi
  cargo install --locked --root "$tmp/cargo" "$@" stilt >&2 || stilt_fail 4 "cargo install of stilt $version from $repo failed"
  cp "$tmp/cargo/bin/stilt" "$dir/stilt" && chmod 0755 "$dir/stilt" || stilt_fail 4 "cannot write $dir/stilt"
  stilt_installed "$dir/stilt" "$version"
)
