#!/usr/bin/env bash
# qemu-lane.sh: mdfs on real persistent memory and real RDMA verbs, inside
# the qemu lane of ../shared/qemu-lane/ (Debian's kernel under TCG, an
# emulated NVDIMM: /dev/pmem0 for fs-dax, /dev/dax0.N for device-dax;
# soft-RoCE rdma_rxe with real libibverbs). Builds mdfs and the test and
# bench binaries the guest runs, boots the guest once with them on a
# read-only 9p share, runs scripts/qemu-lane/guest-test.sh there, and prints
# every "MDFS-LANE:", "RDMA-CYCLE:" and "BENCH:" line and one summary line:
#   qemu-lane: PASS (N checks, T s)       exit 0
#   qemu-lane: FAIL (F of N checks: ...)  exit 1
#   qemu-lane: CANNOT RUN: <reason>       exit 2 (never a silent pass)
# doc/hardware.md describes the lane and every check.
#
# Knobs:
#   W           lane work dir (default ${TMPDIR:-/tmp}/mdfs-qemu-lane); the
#               first run in a new W runs the stock lane (apt, kernel .deb)
#   BUILD       build dir (default ./build-lane)
#   LANE_BUILD  1 (default): configure and build the binaries in BUILD;
#               0: use the binaries already in BUILD (ctest does)
#   JOBS        build parallelism (default: nproc)
#   LANE_DIR    the stock lane (default ../shared/qemu-lane, then
#               /work/shared/qemu-lane)
#   TMO         guest timeout in s (default 900)
#   MDFS_SKIP_LANE  set: report CANNOT RUN at once (a machine without the
#               network or the time for the lane)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export W=${W:-${TMPDIR:-/tmp}/mdfs-qemu-lane}
BUILD=${BUILD:-$ROOT/build-lane}
LANE_BUILD=${LANE_BUILD:-1}
JOBS=${JOBS:-$(nproc)}
T0=$(date +%s)
ts() { echo "[qemu-lane +$(($(date +%s) - T0))s] $*"; }
cannot() { echo "qemu-lane: CANNOT RUN: $*"; exit 2; }
fail() { echo "qemu-lane: FAIL ($*)"; exit 1; }

if [ -z "${LANE_DIR:-}" ]; then
  for candidate in "$ROOT/../shared/qemu-lane" /work/shared/qemu-lane; do
    [ -x "$candidate/lane.sh" ] && { LANE_DIR=$(cd "$candidate" && pwd); break; }
  done
fi
[ -z "${MDFS_SKIP_LANE:-}" ] || cannot "MDFS_SKIP_LANE is set (${MDFS_SKIP_LANE})"
[ "$(uname -m)" = x86_64 ] || cannot "the lane boots an x86_64 Debian kernel; this host is $(uname -m)"
[ -n "${LANE_DIR:-}" ] && [ -x "$LANE_DIR/lane.sh" ] ||
  cannot "no stock qemu lane (lane.sh) at ${LANE_DIR:-$ROOT/../shared/qemu-lane or /work/shared/qemu-lane}; set LANE_DIR"
[ "$(id -u)" -eq 0 ] || cannot "needs root: the stock lane apt-get installs qemu-system-x86, busybox-static, ..."
command -v apt-get >/dev/null || cannot "needs apt-get (a Debian host): the stock lane installs qemu and downloads Debian's kernel .deb"
mkdir -p "$W" || cannot "cannot create W=$W"

# Why the stock lane failed, in one line, from its log.
diagnose_stock() {
  local log=$1
  if ! command -v qemu-system-x86_64 >/dev/null; then
    echo "qemu-system-x86_64 is not installed and apt-get could not install it: $(grep -m1 -E '^(E|W): ' "$log")"
  elif ! ls "$W"/debs/linux-image-*.deb >/dev/null 2>&1; then
    echo "no kernel .deb: apt-get download of Debian's linux-image failed (no network or no archive?): $(grep -m1 -E '^(E|W): |Err:|Temporary failure|Could not' "$log")"
  else
    echo "the stock lane failed: $(grep -v '^\s*$' "$log" | tail -1)"
  fi
}

# 1. The stock lane once: host packages, the kernel .deb, initramfs with
#    the NVDIMM/rxe modules, ndctl, rdma tools (about a minute).
if [ ! -f "$W/initrd.img" ] || [ ! -d "$W/kroot" ] || [ ! -x "$W/run-guest.sh" ]; then
  ts "stock lane (first run in $W): $LANE_DIR/lane.sh"
  if ! "$LANE_DIR/lane.sh" > "$W.stock.log" 2>&1; then
    tail -20 "$W.stock.log"
    cannot "$(diagnose_stock "$W.stock.log") (log $W.stock.log)"
  fi
  grep -q 'LANE: done' "$W/guest.log" ||
    cannot "the stock lane's guest did not finish (log $W/guest.log; qemu under TCG timed out?)"
fi

# 2. Build what the guest runs.
BINARIES=("$BUILD/mdfs" "$BUILD/src/device/mdfs_device_test" "$BUILD/src/direct/mdfs_direct_test"
          "$BUILD/src/rdma/mdfs_rdma_test" "$BUILD/mdfs_bench_direct")
if [ "$LANE_BUILD" = 1 ]; then
  if ! dpkg-query -W -f='${Status}' libibverbs-dev 2>/dev/null | grep -q "install ok installed"; then
    ts "apt-get install libibverbs-dev (the RDMA registrar and its tests)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libibverbs-dev >/dev/null ||
      cannot "apt-get install libibverbs-dev failed"
  fi
  ts "build mdfs, mdfs_device_test, mdfs_direct_test, mdfs_rdma_test, mdfs_bench_direct in $BUILD"
  mkdir -p "$BUILD"
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || fail "cmake configure failed"
  cmake --build "$BUILD" -j"$JOBS" --target mdfs mdfs_device_test mdfs_direct_test mdfs_rdma_test \
    mdfs_bench_direct > "$BUILD/lane-build.log" 2>&1 || { tail -30 "$BUILD/lane-build.log"; fail "build failed"; }
fi
if [ ! -x "$BUILD/src/rdma/mdfs_rdma_test" ] && ! grep -qs '^IBVERBS_FOUND:INTERNAL=1' "$BUILD/CMakeCache.txt"; then
  cannot "$BUILD was configured without libibverbs (Debian libibverbs-dev): no RDMA registrar to test"
fi
for b in "${BINARIES[@]}"; do
  [ -x "$b" ] || fail "missing $b (build it, or run with LANE_BUILD=1)"
done

# 3. The share: binaries, their shared libraries, the guest script.
SHARE=$W/share
rm -rf "$SHARE"; mkdir -p "$SHARE/bin" "$SHARE/lib"
for b in "${BINARIES[@]}"; do
  cp "$b" "$SHARE/bin/"
  ldd "$b" | awk '/=>/ {print $3}' | while read -r l; do [ -f "$l" ] && cp -Ln "$l" "$SHARE/lib/"; done
done
cp "$ROOT/scripts/qemu-lane/guest-test.sh" "$SHARE/lane-test.sh"; chmod +x "$SHARE/lane-test.sh"

# 4. Boot once with the share; the guest runs lane-test.sh from it.
LOG=$W/mdfs-guest.log
ts "boot guest (TCG); log $LOG"
SHARE_DIR=$SHARE LOG=$LOG TMO=${TMO:-900} "$W/run-guest.sh"
ts "guest finished"
grep -E 'MDFS-LANE:|RDMA-CYCLE:|BENCH:' "$LOG" | sed 's/^\[host +[ 0-9.]*s\] //; s/^ *//'
pass=$(grep -c 'MDFS-LANE: PASS' "$LOG")
failed=$(grep -c 'MDFS-LANE: FAIL' "$LOG")
if ! grep -q 'MDFS-LANE: SUMMARY' "$LOG"; then
  fail "the guest did not reach the end of its script; $pass passed, $failed failed; log $LOG"
fi
if [ "$failed" -eq 0 ] && [ "$pass" -gt 0 ]; then
  echo "qemu-lane: PASS ($pass checks, $(($(date +%s) - T0)) s; log $LOG)"
  exit 0
fi
fail "$failed of $((pass + failed)) checks: $(grep 'MDFS-LANE: FAIL' "$LOG" | sed 's/.*MDFS-LANE: FAIL \[[0-9.]*s\] //' | tr '\n' ';')"
