#!/usr/bin/env bash
# Packaging checks (issue 5, README "Install"):
#   bash .ci/packaging.sh linux     build the .deb and the tarball, check them,
#                                   install the .deb for real, start the installed
#                                   program as its user, health check, remove, purge
#   bash .ci/packaging.sh windows   cross-build hotline.exe and hotline.msi, run the
#                                   exe under wine, install the MSI under wine
# Needs root (dpkg -i, apt-get). Uses loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
version="$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -1)"
export DEBIAN_FRONTEND=noninteractive
# A time limit (timeout) or Ctrl-C still runs the EXIT trap's cleanup.
trap 'exit 124' TERM INT

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "   ok: $*"; }

# A free TCP port on 127.0.0.1 from $1 upwards.
free_port() {
  local p
  for p in $(seq "$1" $(($1 + 200))); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  fail "no free port from $1"
}

# wait_healthy CHECK-CMD PID LOG SECONDS: polls `CHECK-CMD` until it exits 0.
wait_healthy() {
  local check="$1" pid="$2" log="$3" limit="$4" start=$SECONDS
  while :; do
    if eval "$check" >/dev/null 2>&1; then
      ok "healthy after $((SECONDS - start)) s"
      return 0
    fi
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      echo "--- server log:"; cat "$log" || true
      fail "the server exited before it was healthy"
    fi
    if [ $((SECONDS - start)) -ge "$limit" ]; then
      echo "--- server log:"; cat "$log" || true
      fail "not healthy within $limit s"
    fi
    sleep 1
  done
}

# stop_pid PID: Ctrl-C (SIGINT, graceful), then SIGKILL after 20 s.
stop_pid() {
  local pid="$1" i
  kill -INT "$pid" 2>/dev/null || return 0
  for i in $(seq 1 40); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.5
  done
  echo "   (no exit 20 s after SIGINT: SIGKILL)"
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

tmp=""
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -KILL "$server_pid" 2>/dev/null || true; fi
  if [ -n "$tmp" ]; then rm -rf "$tmp"; fi
}

# start_installed PORT: the installed program as user hotline, data in /var/lib/hotline.
start_installed() {
  setpriv --reuid=hotline --regid=hotline --init-groups -- \
    env HOTLINE_LOG=info /usr/bin/hotline serve --data-dir /var/lib/hotline \
    --listen "127.0.0.1:$1" --no-browser >"$tmp/server.log" 2>&1 &
  server_pid=$!
  wait_healthy "/usr/bin/hotline healthcheck --url http://127.0.0.1:$1" "$server_pid" "$tmp/server.log" 60
}

linux() {
  local t0=$SECONDS
  local dist="$root/target/dist"
  local deb="$dist/hotline_${version}_amd64.deb"
  local tarball="$dist/hotline-${version}-linux-x86_64.tar.gz"
  tmp="$(mktemp -d)"
  trap cleanup EXIT

  echo "== packaging/linux: build the .deb and the tarball (release binary for glibc >= 2.28)"
  t=$SECONDS
  DIST="$dist" bash packaging/linux/build-deb.sh --compat
  ok "built in $((SECONDS - t)) s"
  local bin=target/x86_64-unknown-linux-gnu/${HOTLINE_PROFILE:-release}/hotline
  local need; need="$(objdump -T "$bin" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -Vu | tail -1)"
  [ "$(printf '%s\n2.28\n' "$need" | sort -V | tail -1)" = 2.28 ] || fail "the binary needs glibc $need (> 2.28)"
  ok "the binary needs glibc $need (UOS 20 / Kylin V10 have 2.28)"
  [ -f "$deb" ] || fail "no $deb"
  [ -f "$tarball" ] || fail "no $tarball"

  echo "== dpkg-deb --info $(basename "$deb")"
  dpkg-deb --info "$deb"
  [ "$(dpkg-deb --field "$deb" Package)" = hotline ] || fail "Package field"
  [ "$(dpkg-deb --field "$deb" Version)" = "$version" ] || fail "Version field"
  [ "$(dpkg-deb --field "$deb" Architecture)" = amd64 ] || fail "Architecture field"
  echo "== dpkg-deb --contents $(basename "$deb")"
  dpkg-deb --contents "$deb" | tee "$tmp/contents"
  for f in ./usr/bin/hotline ./usr/lib/systemd/system/hotline.service \
           ./usr/share/applications/hotline.desktop \
           ./usr/share/icons/hicolor/scalable/apps/hotline.svg \
           ./usr/share/doc/hotline/README.txt ./usr/share/doc/hotline/copyright; do
    grep -q " $f\$" "$tmp/contents" || fail "$f missing from the .deb"
  done
  ok "all expected files in the .deb"

  echo "== tarball $(basename "$tarball")"
  tar -tzf "$tarball" | tee "$tmp/tarlist"
  for f in hotline README.txt hotline.service; do
    grep -qx "hotline-${version}-linux-x86_64/$f" "$tmp/tarlist" || fail "$f missing from the tarball"
  done
  tar -C "$tmp" -xzf "$tarball"
  "$tmp/hotline-${version}-linux-x86_64/hotline" --version
  ok "tarball complete, its binary runs"

  if dpkg -s hotline >/dev/null 2>&1; then
    echo "== hotline is already installed here: purging it first (dpkg -P hotline)"
    dpkg -P hotline
  fi

  echo "== dpkg -i $(basename "$deb")"
  dpkg -i "$deb"
  [ "$(dpkg-query -W -f='${Status}' hotline)" = "install ok installed" ] || fail "not installed"
  getent passwd hotline >/dev/null || fail "no user hotline"
  [ "$(stat -c %U:%G /var/lib/hotline)" = hotline:hotline ] || fail "/var/lib/hotline not owned by hotline"
  [ -x /usr/bin/hotline ] || fail "no /usr/bin/hotline"
  /usr/bin/hotline --version
  ok "installed: user hotline, /var/lib/hotline owned by it, /usr/bin/hotline runs"
  if command -v systemd-analyze >/dev/null 2>&1; then
    systemd-analyze verify /usr/lib/systemd/system/hotline.service
    ok "systemd-analyze verify hotline.service"
  fi
  if command -v desktop-file-validate >/dev/null 2>&1; then
    desktop-file-validate /usr/share/applications/hotline.desktop
    ok "desktop-file-validate hotline.desktop"
  fi

  local port; port="$(free_port 18080)"
  echo "== start the installed program as user hotline on 127.0.0.1:$port (data in /var/lib/hotline)"
  echo "   (systemd is not running here: the service's ExecStart, by hand)"
  start_installed "$port"
  /usr/bin/hotline healthcheck --url "http://127.0.0.1:$port"
  [ "$(ps -o user= -p "$server_pid" | tr -d ' ')" = hotline ] || fail "server not running as hotline"
  [ -f /var/lib/hotline/hotline.redb ] || fail "no database in /var/lib/hotline"
  [ "$(stat -c %U /var/lib/hotline/hotline.redb)" = hotline ] || fail "database not owned by hotline"
  ok "healthcheck answered; server runs as hotline; database owned by hotline"
  local t1=$SECONDS
  stop_pid "$server_pid"; server_pid=""
  ok "stopped by SIGINT in $((SECONDS - t1)) s"
  local sum; sum="$(sha256sum /var/lib/hotline/hotline.redb | cut -d' ' -f1)"

  echo "== upgrade: dpkg -i a newer package (${version}+citest) over it keeps the data"
  HOTLINE_BIN="$bin" HOTLINE_DEB_VERSION="${version}+citest" DIST="$tmp/dist2" bash packaging/linux/build-deb.sh >/dev/null
  dpkg -i "$tmp/dist2/hotline_${version}+citest_amd64.deb"
  [ "$(dpkg-query -W -f='${Version}' hotline)" = "${version}+citest" ] || fail "upgrade not installed"
  [ "$(sha256sum /var/lib/hotline/hotline.redb | cut -d' ' -f1)" = "$sum" ] || fail "upgrade changed the data"
  start_installed "$port"
  stop_pid "$server_pid"; server_pid=""
  ok "upgraded; data kept and served"

  echo "== dpkg -r hotline (remove keeps the data)"
  dpkg -r hotline
  [ ! -e /usr/bin/hotline ] || fail "/usr/bin/hotline still there after remove"
  [ -f /var/lib/hotline/hotline.redb ] || fail "remove deleted the data"
  getent passwd hotline >/dev/null || fail "remove deleted the user"
  ok "program gone, /var/lib/hotline and user kept"

  echo "== reinstall after remove: dpkg -i $(basename "$deb") finds the data"
  dpkg -i "$deb"
  [ -f /var/lib/hotline/hotline.redb ] || fail "reinstall lost the data"
  start_installed "$port"
  stop_pid "$server_pid"; server_pid=""
  dpkg -r hotline >/dev/null
  [ -f /var/lib/hotline/hotline.redb ] || fail "second remove deleted the data"
  ok "reinstalled over the kept data, served it, removed again"

  echo "== dpkg -P hotline (purge deletes data and user)"
  dpkg -P hotline
  [ ! -e /var/lib/hotline ] || fail "/var/lib/hotline still there after purge"
  ! getent passwd hotline >/dev/null || fail "user hotline still there after purge"
  ! dpkg -s hotline >/dev/null 2>&1 || fail "package still known to dpkg after purge"
  ok "/var/lib/hotline and user gone"

  echo "== packaging linux: all checks passed in $((SECONDS - t0)) s"
}

wine=/usr/lib/wine/wine64
wineserver=/usr/lib/wine/wineserver64
# Ends the wine processes of this run's own prefix only, then cleans up.
cleanup_wine() {
  if [ -n "$server_pid" ]; then kill -KILL "$server_pid" 2>/dev/null || true; server_pid=""; fi
  if [ -n "${WINEPREFIX:-}" ] && [ -d "$WINEPREFIX" ]; then "$wineserver" -k 2>/dev/null || true; fi
  cleanup
}

# The shortcuts called Hotline.lnk: Start menu (in the prefix) and desktop
# (wine maps the user's desktop to $HOME/Desktop).
shortcuts() {
  { find "$WINEPREFIX/drive_c/users" "$WINEPREFIX/drive_c/ProgramData" -name Hotline.lnk 2>/dev/null
    ls "$HOME"/Desktop/Hotline.lnk 2>/dev/null; } | sort -u
}

windows() {
  local t0=$SECONDS t
  local dist="$root/target/dist"
  local msi="$dist/hotline-${version}-x64.msi"
  local zip="$dist/hotline-${version}-windows-x64.zip"
  local exe="${HOTLINE_WIN_TARGET_DIR:-$root/target/windows}/x86_64-pc-windows-gnu/${HOTLINE_PROFILE:-release}/hotline.exe"
  tmp="$(mktemp -d)"
  trap 'cleanup_wine' EXIT

  local need=()
  for p in gcc-mingw-w64-x86-64 rustc-web rust-web-src cargo-web wixl zip wine64 msitools curl; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
  done
  if [ ${#need[@]} -gt 0 ]; then
    echo "== apt-get install ${need[*]}"
    t=$SECONDS
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    ok "installed in $((SECONDS - t)) s"
  fi

  echo "== packaging/windows: cross-build hotline.exe (Debian's toolchain, std rebuilt)"
  t=$SECONDS
  bash packaging/windows/build-windows.sh --exe-only
  ok "hotline.exe built in $((SECONDS - t)) s"
  echo "   imports: $(x86_64-w64-mingw32-objdump -p "$exe" | sed -n 's/.*DLL Name: //p' | sort -fu | tr '\n' ' ')"
  if x86_64-w64-mingw32-objdump -p "$exe" | grep -qiE 'DLL Name: (libgcc|libwinpthread|libstdc)'; then
    fail "hotline.exe needs mingw runtime DLLs"
  fi

  echo "== packaging/windows: wixl -> $(basename "$msi"), portable zip"
  bash packaging/windows/build-windows.sh --msi-only
  msiinfo suminfo "$msi" | grep -E '^(Subject|Template)'
  msiinfo suminfo "$msi" | grep -q '^Template: x64;' || fail "MSI is not x64"
  msiinfo export "$msi" Property | grep -q $'^UpgradeCode\t{49FE11A2-9B0D-4431-A55A-D9E8E3D63068}' || fail "UpgradeCode changed"
  unzip -l "$zip" | tee "$tmp/ziplist"
  grep -q "hotline-${version}-windows-x64/hotline.exe" "$tmp/ziplist" || fail "no hotline.exe in the zip"

  echo "== wine prefix (test-only ProcessPrng stand-in: wine 8 lacks bcryptprimitives.dll)"
  local real_home="$HOME"
  export WINEPREFIX="$tmp/wineprefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" HOME="$tmp/home"
  unset DISPLAY WAYLAND_DISPLAY
  mkdir -p "$HOME/Desktop"
  t=$SECONDS
  "$wine" wineboot --init >/dev/null 2>&1 || true
  x86_64-w64-mingw32-gcc -shared -O2 -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
    packaging/windows/wine/bcryptprimitives.c packaging/windows/wine/bcryptprimitives.def -lbcrypt
  ok "prefix ready in $((SECONDS - t)) s"
  "$wine" "$exe" --version | tr -d '\r'

  local port; port="$(free_port 18280)"
  echo "== hotline.exe serve under wine on 127.0.0.1:$port"
  "$wine" "$exe" serve --data-dir 'C:\hotline-portable' --listen "127.0.0.1:$port" --no-browser \
    >"$tmp/server.log" 2>&1 &
  server_pid=$!
  wait_healthy "curl -fsS http://127.0.0.1:$port/healthz | grep -q '\"status\":\"ok\"'" "$server_pid" "$tmp/server.log" 90
  "$wine" "$exe" healthcheck --url "http://127.0.0.1:$port" | tr -d '\r'
  [ -f "$WINEPREFIX/drive_c/hotline-portable/hotline.redb" ] || fail "no database written"
  stop_pid "$server_pid"; server_pid=""
  ok "the exe serves /healthz under wine"

  echo "== msiexec /i $(basename "$msi") /qn"
  "$wine" msiexec /i "Z:${msi//\//\\}" /qn /l*v 'C:\msi-install.log'
  local pf="$WINEPREFIX/drive_c/Program Files/Hotline" pd="$WINEPREFIX/drive_c/ProgramData/Hotline"
  [ -f "$pf/hotline.exe" ] || fail "hotline.exe not installed in Program Files\\Hotline"
  [ -f "$pf/README.txt" ] || fail "README.txt not installed"
  [ -d "$pd" ] || fail "%ProgramData%\\Hotline not created"
  shortcuts | sed "s|^$tmp/|   |" | tee "$tmp/links"
  grep -q 'Start Menu/Programs/Hotline/Hotline.lnk$' "$tmp/links" || fail "no Start-menu shortcut"
  grep -q 'Desktop/Hotline.lnk$' "$tmp/links" || fail "no desktop shortcut"
  "$wine" reg query 'HKLM\Software\Hotline' /v DataDir | tr -d '\r' | grep -q 'ProgramData\\Hotline' \
    || fail "registry value DataDir missing"
  ok "installed: Program Files\\Hotline\\hotline.exe, %ProgramData%\\Hotline, 2 shortcuts"

  echo "== the installed program, as its shortcut starts it (data in %ProgramData%\\Hotline)"
  "$wine" 'C:\Program Files\Hotline\hotline.exe' serve --data-dir 'C:\ProgramData\Hotline\.' \
    --listen "127.0.0.1:$port" --no-browser >"$tmp/server.log" 2>&1 &
  server_pid=$!
  wait_healthy "curl -fsS http://127.0.0.1:$port/healthz | grep -q '\"status\":\"ok\"'" "$server_pid" "$tmp/server.log" 90
  stop_pid "$server_pid"; server_pid=""
  [ -f "$pd/hotline.redb" ] || fail "no database in %ProgramData%\\Hotline"
  local sum; sum="$(sha256sum "$pd/hotline.redb" | cut -d' ' -f1)"
  ok "installed program answered /healthz"

  local up; up="$(echo "$version" | awk -F. '{print $1"."$2"."$3+1}')"
  echo "== upgrade in place: msiexec /i an MSI of version $up (same UpgradeCode)"
  HOME="$real_home" HOTLINE_MSI_VERSION="$up" DIST="$tmp/dist2" bash packaging/windows/build-windows.sh --msi-only >/dev/null
  "$wine" msiexec /i "Z:${tmp//\//\\}\\dist2\\hotline-$up-x64.msi" /qn
  "$wine" reg query 'HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall' /s | tr -d '\r' \
    | grep -A1 -E 'DisplayName +REG_SZ +Hotline$' | grep DisplayVersion | tee "$tmp/versions"
  [ "$(grep -c . "$tmp/versions")" = 1 ] && grep -q " $up\$" "$tmp/versions" || fail "upgrade did not replace the old version"
  [ "$(sha256sum "$pd/hotline.redb" | cut -d' ' -f1)" = "$sum" ] || fail "upgrade changed the data"
  ok "one Hotline $up installed, data untouched"

  echo "== msiexec /x (uninstall keeps the data)"
  "$wine" msiexec /x "Z:${tmp//\//\\}\\dist2\\hotline-$up-x64.msi" /qn
  [ ! -e "$pf/hotline.exe" ] || fail "hotline.exe still there after uninstall"
  [ -z "$(shortcuts)" ] || fail "shortcuts left after uninstall"
  [ -f "$pd/hotline.redb" ] || fail "uninstall deleted the data"
  ok "program and shortcuts gone, %ProgramData%\\Hotline kept"

  echo "== packaging windows: all checks passed in $((SECONDS - t0)) s"
}

main() {
  case "${1:-}" in
    linux) linux ;;
    windows) windows ;;
    *) echo "usage: $0 linux|windows" >&2; exit 2 ;;
  esac
}

# On one line, so that bash has read all of it before running it.
main "$@"; exit $?
