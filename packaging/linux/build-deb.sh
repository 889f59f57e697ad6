#!/usr/bin/env bash
# Builds target/dist/hotline_<version>_amd64.deb and
# target/dist/hotline-<version>-linux-x86_64.tar.gz.
#   packaging/linux/build-deb.sh            from target/release/hotline (cargo build
#                                           --release if missing); needs the build
#                                           machine's glibc (2.34 on Debian 12)
#   packaging/linux/build-deb.sh --compat   builds with cargo-zigbuild (PyPI, in a
#                                           venv under target/tools) against glibc
#                                           2.28: runs on UOS 20, Kylin V10,
#                                           Debian 10+, Ubuntu 20.04+
#   packaging/linux/build-deb.sh --rebuild  always run cargo build --release first
# HOTLINE_BIN=FILE packages that binary instead; HOTLINE_DEB_VERSION overrides
# the version (CI's upgrade test); DIST the output directory.
# Needs dpkg-deb and objdump (Debian/Ubuntu).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

version="${HOTLINE_DEB_VERSION:-$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -1)}"
[ -n "$version" ] || { echo "no version in Cargo.toml" >&2; exit 1; }
mode=plain
# HOTLINE_PROFILE picks the cargo profile (default release; CI uses the
# faster-to-build ci-package profile, see Cargo.toml).
profile="${HOTLINE_PROFILE:-release}"
for a in "$@"; do
  case "$a" in
    --compat) mode=compat ;;
    --rebuild) mode=rebuild ;;
    *) echo "unknown option $a" >&2; exit 2 ;;
  esac
done

if [ -n "${HOTLINE_BIN:-}" ]; then
  bin="$HOTLINE_BIN"
elif [ "$mode" = compat ]; then
  venv="$root/target/tools/zigbuild"
  if [ ! -x "$venv/bin/cargo-zigbuild" ] || [ ! -x "$venv/bin/python-zig" ]; then
    echo "== pip install cargo-zigbuild ziglang (venv $venv)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q cargo-zigbuild==0.24.0 ziglang==0.17.1
  fi
  echo "== cargo zigbuild --profile $profile --target x86_64-unknown-linux-gnu.2.28"
  PATH="$venv/bin:$PATH" cargo zigbuild --profile "$profile" --locked --target x86_64-unknown-linux-gnu.2.28
  bin=target/x86_64-unknown-linux-gnu/$profile/hotline
else
  bin=target/$profile/hotline
  if [ "$mode" = rebuild ] || [ ! -x "$bin" ]; then
    echo "== cargo build --profile $profile"
    cargo build --profile "$profile" --locked
  fi
fi
[ -x "$bin" ] || { echo "no binary at $bin" >&2; exit 1; }

# The newest glibc symbol version the binary uses = the oldest glibc it runs on.
glibc="$(objdump -T "$bin" 2>/dev/null | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -Vu | tail -1 || true)"
glibc="${glibc:-2.34}"
depends="libc6 (>= $glibc)"
if objdump -p "$bin" | grep -q 'NEEDED *libgcc_s'; then
  depends="$depends, libgcc-s1 | libgcc1"
fi

dist="${DIST:-$root/target/dist}"
mkdir -p "$dist"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# ---- .deb ----
pkg="$work/deb"
install -d "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/usr/lib/systemd/system" \
  "$pkg/usr/share/applications" "$pkg/usr/share/icons/hicolor/scalable/apps" \
  "$pkg/usr/share/doc/hotline"
install -m 0755 "$bin" "$pkg/usr/bin/hotline"
install -m 0644 "$here/hotline.service" "$pkg/usr/lib/systemd/system/hotline.service"
install -m 0644 "$here/hotline.desktop" "$pkg/usr/share/applications/hotline.desktop"
install -m 0644 "$here/hotline.svg" "$pkg/usr/share/icons/hicolor/scalable/apps/hotline.svg"
sed "s/VERSION/$version/g" "$here/README.txt" > "$pkg/usr/share/doc/hotline/README.txt"
chmod 0644 "$pkg/usr/share/doc/hotline/README.txt"
cat > "$pkg/usr/share/doc/hotline/copyright" <<COPY
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: hotline

Files: *
License: MIT
 Permission is hereby granted, free of charge, to any person obtaining a copy
 of this software, to deal in the Software without restriction, subject to
 the conditions of the MIT license.
COPY
chmod 0644 "$pkg/usr/share/doc/hotline/copyright"
for s in postinst prerm postrm; do
  install -m 0755 "$here/debian/$s" "$pkg/DEBIAN/$s"
done
size_kb="$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)"
sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$size_kb/" -e "s/@DEPENDS@/$depends/" \
  "$here/debian/control.in" > "$pkg/DEBIAN/control"
(cd "$pkg" && find usr -type f -print0 | sort -z | xargs -0 md5sum > DEBIAN/md5sums)
chmod 0644 "$pkg/DEBIAN/control" "$pkg/DEBIAN/md5sums"

deb="$dist/hotline_${version}_amd64.deb"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >/dev/null
echo "built $deb ($(du -h "$deb" | cut -f1), needs glibc >= $glibc)"

# ---- plain tarball ----
name="hotline-${version}-linux-x86_64"
t="$work/$name"
install -d "$t"
install -m 0755 "$bin" "$t/hotline"
install -m 0644 "$here/hotline.service" "$t/hotline.service"
sed "s/VERSION/$version/g" "$here/README.txt" > "$t/README.txt"
tarball="$dist/$name.tar.gz"
tar -C "$work" --owner=0 --group=0 --numeric-owner -czf "$tarball" "$name"
echo "built $tarball ($(du -h "$tarball" | cut -f1))"
