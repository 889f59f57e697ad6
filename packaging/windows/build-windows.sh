#!/usr/bin/env bash
# Builds the Windows release: target/dist/hotline-<version>-x64.msi and
# target/dist/hotline-<version>-windows-x64.zip (portable), from
# target/windows/x86_64-pc-windows-gnu/release/hotline.exe.
#   packaging/windows/build-windows.sh [--install-deps] [--exe-only|--msi-only]
# Uses Debian's packages only (no rustup target needed): Debian's rustc/cargo
# (rustc-web, cargo-web >= the crate's rust-version) rebuild std for the
# target from rust-web-src; mingw-w64 links; wixl makes the MSI.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

deps=(gcc-mingw-w64-x86-64 rustc-web rust-web-src cargo-web wixl zip)
mode=all
for a in "$@"; do
  case "$a" in
    --install-deps)
      need=()
      for p in "${deps[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
      if [ ${#need[@]} -gt 0 ]; then
        echo "== apt-get install ${need[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
      fi ;;
    --exe-only) mode=exe ;;
    --msi-only) mode=msi ;;
    *) echo "unknown option $a" >&2; exit 2 ;;
  esac
done

version="$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -1)"
# HOTLINE_MSI_VERSION overrides the MSI's version (CI's upgrade test).
version="${HOTLINE_MSI_VERSION:-$version}"
target=x86_64-pc-windows-gnu
tdir="${HOTLINE_WIN_TARGET_DIR:-$root/target/windows}"
# HOTLINE_PROFILE picks the cargo profile (default release; CI uses the
# faster-to-build ci-package profile, see Cargo.toml).
profile="${HOTLINE_PROFILE:-release}"
exe="$tdir/$target/$profile/hotline.exe"
dist="${DIST:-$root/target/dist}"
mkdir -p "$dist"

if [ "$mode" != msi ]; then
  echo "== cargo build --profile $profile --target $target (Debian's $(/usr/bin/rustc --version), std rebuilt)"
  # Debian's toolchain, not rustup's (which has no std for this target here).
  env RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc \
    CARGO_TARGET_DIR="$tdir" \
    /usr/bin/cargo build --profile "$profile" --locked --target "$target" \
    -Zbuild-std=std,panic_unwind
  echo "built $exe ($(du -h "$exe" | cut -f1))"
fi
[ "$mode" = exe ] && exit 0
[ -f "$exe" ] || { echo "no $exe: build it first" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Windows line endings for Notepad.
sed -e "s/VERSION/$version/g" -e 's/$/\r/' "$here/README.txt" > "$work/README.txt"

msi="$dist/hotline-$version-x64.msi"
echo "== wixl -> $(basename "$msi")"
# wixl looks sources up relative to the current directory.
cp "$exe" "$work/hotline.exe"
python3 "$here/make-icon.py" "$work/hotline.ico"
(cd "$work" && wixl -a x64 -D Version="$version" -D ExeSource=hotline.exe -D ReadmeSource=README.txt \
  -o "$msi" "$here/hotline.wxs")
echo "built $msi ($(du -h "$msi" | cut -f1))"

zipname="hotline-$version-windows-x64"
mkdir -p "$work/$zipname"
cp "$exe" "$work/README.txt" "$work/$zipname/"
rm -f "$dist/$zipname.zip"
(cd "$work" && zip -q -r "$dist/$zipname.zip" "$zipname")
echo "built $dist/$zipname.zip ($(du -h "$dist/$zipname.zip" | cut -f1))"
