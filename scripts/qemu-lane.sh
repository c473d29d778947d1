#!/usr/bin/env bash
# qemu-lane.sh: mdfs on real persistent memory and real RDMA verbs, inside
# the qemu lane of ../shared/qemu-lane/ (Debian's kernel under TCG, an
# emulated NVDIMM: /dev/pmem0 for fs-dax, /dev/dax0.0 for device-dax;
# soft-RoCE rdma_rxe with real libibverbs). Builds mdfs, the dax device
# tests and the RDMA registrar tests, boots the guest once with them on a
# read-only 9p share, runs scripts/qemu-lane/guest-test.sh there, and prints
# every "MDFS-LANE:" line and one summary line:
#   qemu-lane: PASS (N checks)            exit 0
#   qemu-lane: FAIL (F of N checks: ...)  exit 1
#   qemu-lane: CANNOT RUN: <reason>       exit 2 (never a silent pass)
# Knobs: W (lane work dir, default ${TMPDIR:-/tmp}/mdfs-qemu-lane),
# BUILD (build dir, default ./build-lane), LANE_DIR (default ../shared/qemu-lane),
# TMO (guest timeout s, default 600).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export W=${W:-${TMPDIR:-/tmp}/mdfs-qemu-lane}
BUILD=${BUILD:-$ROOT/build-lane}
LANE_DIR=${LANE_DIR:-$ROOT/../shared/qemu-lane}
T0=$(date +%s)
ts() { echo "[qemu-lane +$(($(date +%s) - T0))s] $*"; }
cannot() { echo "qemu-lane: CANNOT RUN: $*"; exit 2; }

[ "$(uname -m)" = x86_64 ] || cannot "the lane boots an x86_64 Debian kernel; this host is $(uname -m)"
[ -x "$LANE_DIR/lane.sh" ] || cannot "no qemu lane at $LANE_DIR (lane.sh missing); set LANE_DIR"
[ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null || cannot "needs root (apt-get) or sudo"

# 1. The stock lane once: host packages, the kernel .deb, initramfs with
#    the NVDIMM/rxe modules, ndctl, rdma tools (about 40 s).
if [ ! -f "$W/initrd.img" ] || [ ! -d "$W/kroot" ] || [ ! -x "$W/run-guest.sh" ]; then
  ts "stock lane (first run): $LANE_DIR/lane.sh"
  "$LANE_DIR/lane.sh" > "$W.stock.log" 2>&1 || { tail -20 "$W.stock.log"; cannot "the stock lane failed (log $W.stock.log)"; }
  grep -q 'LANE: done' "$W/guest.log" || cannot "the stock lane's guest did not finish (log $W/guest.log)"
fi

# 2. Build what the guest runs (libibverbs-dev is needed for the RDMA tests).
if ! dpkg-query -W -f='${Status}' libibverbs-dev 2>/dev/null | grep -q "install ok installed"; then
  ts "apt-get install libibverbs-dev"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libibverbs-dev >/dev/null || cannot "apt-get install libibverbs-dev failed"
fi
ts "build mdfs, mdfs_device_test, mdfs_rdma_test in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || cannot "cmake configure failed"
cmake --build "$BUILD" -j"$(nproc)" --target mdfs mdfs_device_test mdfs_rdma_test \
  > "$BUILD/lane-build.log" 2>&1 || { tail -30 "$BUILD/lane-build.log"; echo "qemu-lane: FAIL (build failed)"; exit 1; }

# 3. The share: binaries, their shared libraries, the guest script.
SHARE=$W/share
rm -rf "$SHARE"; mkdir -p "$SHARE/bin" "$SHARE/lib"
for b in "$BUILD/mdfs" "$BUILD/src/device/mdfs_device_test" "$BUILD/src/rdma/mdfs_rdma_test"; do
  [ -x "$b" ] || { echo "qemu-lane: FAIL (missing $b)"; exit 1; }
  cp "$b" "$SHARE/bin/"
  ldd "$b" | awk '/=>/ {print $3}' | while read -r l; do [ -f "$l" ] && cp -Ln "$l" "$SHARE/lib/"; done
done
cp "$ROOT/scripts/qemu-lane/guest-test.sh" "$SHARE/lane-test.sh"; chmod +x "$SHARE/lane-test.sh"

# 4. Boot once with the share; the guest runs lane-test.sh from it.
ts "boot guest (TCG); log $W/mdfs-guest.log"
SHARE_DIR=$SHARE LOG=$W/mdfs-guest.log TMO=${TMO:-600} "$W/run-guest.sh"
ts "guest finished"
LOG=$W/mdfs-guest.log
grep -E 'MDFS-LANE:|RDMA-CYCLE:|PERSIST:' "$LOG" | sed 's/^\[host +[ 0-9.]*s\] //'
pass=$(grep -c 'MDFS-LANE: PASS' "$LOG")
fail=$(grep -c 'MDFS-LANE: FAIL' "$LOG")
if ! grep -q 'MDFS-LANE: SUMMARY' "$LOG"; then
  echo "qemu-lane: FAIL (the guest did not reach the end of its script; $pass passed, $fail failed; log $LOG)"
  exit 1
fi
if [ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]; then
  echo "qemu-lane: PASS ($pass checks, $(($(date +%s) - T0)) s)"
  exit 0
fi
echo "qemu-lane: FAIL ($fail of $((pass + fail)) checks: $(grep 'MDFS-LANE: FAIL' "$LOG" | sed 's/.*MDFS-LANE: FAIL //' | tr '\n' ';'))"
exit 1
