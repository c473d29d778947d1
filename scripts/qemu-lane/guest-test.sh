#!/bin/sh
# Runs inside the qemu lane's guest (busybox sh), from the read-only 9p
# share that scripts/qemu-lane.sh prepared at /mnt/host. Each check prints
# "MDFS-LANE: PASS name" or "MDFS-LANE: FAIL name" with the guest's uptime;
# the last line is "MDFS-LANE: SUMMARY pass=N fail=M". doc/hardware.md says
# what each check shows.
#
# The emulated NVDIMM (one 1 GiB region) gets labels, so that it holds three
# namespaces at once: /dev/pmem0 (fs-dax, 256 MiB: ext4 -o dax),
# /dev/dax0.1 (device-dax, 2 MiB alignment, 256 MiB) and /dev/dax0.2
# (device-dax, 4 KiB alignment, the rest).
H=/mnt/host
export PATH=$H/bin:/sbin:/bin LD_LIBRARY_PATH=$H/lib:/lib/x86_64-linux-gnu
PASS=0; FAIL=0
up() { cut -d' ' -f1 /proc/uptime; }
ok() { echo "MDFS-LANE: PASS [$(up)s] $*"; PASS=$((PASS + 1)); }
bad() { echo "MDFS-LANE: FAIL [$(up)s] $*"; FAIL=$((FAIL + 1)); }
say() { echo "MDFS-LANE: ---- $*"; }
# check NAME CMD...: passes when CMD exits 0.
check() { name=$1; shift; if "$@" >/tmp/check.out 2>&1; then ok "$name"; else sed 's/^/    /' /tmp/check.out; bad "$name"; fi; }
# expect NAME PATTERN CMD...: runs CMD, shows its output, passes when it
# exits 0 and prints PATTERN (grep -E).
expect() {
  name=$1; pattern=$2; shift 2
  out=$("$@" 2>&1); rc=$?
  echo "$out" | sed 's/^/    /'
  if [ $rc -eq 0 ] && echo "$out" | grep -qE -- "$pattern"; then ok "$name"; else bad "$name (rc=$rc)"; fi
}
# refuse NAME PATTERN CMD...: CMD must fail and print PATTERN.
refuse() {
  name=$1; pattern=$2; shift 2
  out=$("$@" 2>&1); rc=$?
  echo "$out" | sed 's/^/    /'
  if [ $rc -ne 0 ] && echo "$out" | grep -qE -- "$pattern"; then ok "$name"; else bad "$name (rc=$rc)"; fi
}
# gtest NAME BINARY FILTER: passes when no test failed and none skipped;
# shows the report lines, and everything when it does not pass.
gtest() {
  name=$1; bin=$2; filter=$3
  out=$($bin --gtest_filter="$filter" 2>&1); rc=$?
  if [ $rc -eq 0 ] && ! echo "$out" | grep -q '\[  SKIPPED \]' && echo "$out" | grep -q '\[  PASSED  \]'; then
    echo "$out" | grep -E '^\[ +(OK|PASSED) +\]|RDMA-CYCLE:' | sed 's/^/    /'
    ok "$name"
  else
    echo "$out" | sed 's/^/    /'
    bad "$name (rc=$rc)"
  fi
}

echo "MDFS-LANE: kernel $(uname -r), $(nproc) vCPUs, TCG, $(grep MemTotal /proc/meminfo | tr -s ' ')"
say "soft-RoCE (rdma_rxe) on a dummy interface"
ip link add dummy0 type dummy 2>/dev/null; ip link set dummy0 up
ip addr add 192.168.77.1/24 dev dummy0 2>/dev/null
check "soft-RoCE rxe0 on dummy0" rdma link add rxe0 type rxe netdev dummy0

say "NVDIMM: labels, then fs-dax 256 MiB + device-dax 2 MiB-aligned 256 MiB + device-dax 4 KiB-aligned"
ndctl disable-region all >/dev/null 2>&1
ndctl init-labels -f all >/dev/null 2>&1
ndctl enable-region all >/dev/null 2>&1
ndctl create-namespace -r region0 -m fsdax --map=dev -s 256M >/dev/null 2>&1
ndctl create-namespace -r region0 -m devdax -a 2M -s 256M >/dev/null 2>&1
ndctl create-namespace -r region0 -m devdax -a 4K >/dev/null 2>&1
ndctl list -N 2>&1 | grep -E '"(dev|mode|size|align|blockdev|chardev)"' | tr -d ' \n' | sed 's/"dev"/\n    "dev"/g'; echo
DAX2M=/dev/dax0.1 DAX4K=/dev/dax0.2
[ -b /dev/pmem0 ] && ok "fsdax namespace /dev/pmem0" || bad "fsdax namespace /dev/pmem0"
a2=$(cat /sys/bus/dax/devices/dax0.1/align 2>/dev/null); a4=$(cat /sys/bus/dax/devices/dax0.2/align 2>/dev/null)
[ -c $DAX2M ] && [ "$a2" = 2097152 ] && ok "devdax $DAX2M (align $a2)" || bad "devdax $DAX2M (align $a2)"
[ -c $DAX4K ] && [ "$a4" = 4096 ] && ok "devdax $DAX4K (align $a4)" || bad "devdax $DAX4K (align $a4)"
echo "    region0 $(grep DEVTYPE /sys/bus/nd/devices/region0/uevent), persistence_domain: $(cat /sys/bus/nd/devices/region0/persistence_domain 2>/dev/null || echo 'not published (hidden attribute)')"

say "fs-dax: ext4 -o dax on /dev/pmem0"
mkfs.ext4 -q -F -b 4096 /dev/pmem0
refuse "mkfs refuses /dev/pmem0 holding ext4 (no --force)" "ext2/ext3/ext4 file system" mdfs mkfs /dev/pmem0
check "mount ext4 -o dax" mount -t ext4 -o dax /dev/pmem0 /mnt/pmem
grep pmem0 /proc/mounts | sed 's/^/    /'
expect "mkfs image on ext4-dax" "formatted" mdfs --access mmap mkfs /mnt/pmem/fs.img --size 64M
expect "df on ext4-dax --access mmap: cpu-cache (MAP_SYNC granted)" '"persistence_mode": *"cpu-cache"' \
  mdfs --access mmap df /mnt/pmem/fs.img --json
expect "df on ext4-dax --access pread: fdatasync" 'Persistence: +fdatasync' mdfs df /mnt/pmem/fs.img
echo hello-from-ext4-dax | mdfs --access mmap put /mnt/pmem/fs.img - /hello >/dev/null
expect "fsck ext4-dax image" "clean" mdfs --access mmap fsck /mnt/pmem/fs.img
MDFS_TEST_FSDAX_DIR=/mnt/pmem gtest "DaxDevice.FsDax* + sysfs walk (MAP_SYNC device test)" mdfs_device_test 'DaxDevice.*:-DaxDevice.DeviceDax*'
MDFS_TEST_FSDAX_DIR=/mnt/pmem gtest "RDMA registration on fs-dax refused with EOPNOTSUPP" mdfs_rdma_test 'RdmaCycle.FsDax*'
umount /mnt/pmem

say "the same ext4 without dax"
check "mount ext4 -o dax=never" mount -t ext4 -o dax=never /dev/pmem0 /mnt/pmem
expect "df on non-dax ext4 --access mmap: msync (MAP_SYNC refused)" '"persistence_mode": *"msync"' \
  mdfs --access mmap df /mnt/pmem/fs.img --json
MDFS_TEST_PAGECACHE_DIR=/mnt/pmem gtest "RDMA registration of page cache: by cause (EFAULT from 6.5)" mdfs_rdma_test 'RdmaCycle.PageCache*'
umount /mnt/pmem

say "device-dax, 2 MiB alignment: $DAX2M"
MDFS_TEST_DEVICE_DAX=$DAX2M gtest "DaxDevice.DeviceDax* on $DAX2M (raw device test)" mdfs_device_test 'DaxDevice.DeviceDax*'
if mdfs mkfs $DAX2M >/tmp/mkfs.out 2>&1; then
  sed 's/^/    /' /tmp/mkfs.out; ok "mkfs $DAX2M (blank)"
else
  sed 's/^/    /' /tmp/mkfs.out; bad "mkfs $DAX2M (blank)"
fi
refuse "mkfs $DAX2M again refuses (mdfs signature)" "mdfs file system" mdfs mkfs $DAX2M
refuse "mkfs $DAX2M --size mismatch refused" "cannot resize a device-dax" mdfs mkfs $DAX2M --size 64M --force
expect "df $DAX2M: cpu-cache, device-dax on a pmem region" 'Persistence: +cpu-cache' mdfs df $DAX2M
mdfs df $DAX2M --json | grep -E 'persistence|device"' | sed 's/^/    /'
echo hello-from-device-dax | mdfs put $DAX2M - /hello >/dev/null
expect "get from $DAX2M" "hello-from-device-dax" mdfs get $DAX2M /hello -
expect "fsck $DAX2M" "clean" mdfs fsck $DAX2M
MDFS_TEST_DEVICE_DAX=$DAX2M gtest "MapDirect on $DAX2M: chunks map, 4 KiB ranges refused by rule" mdfs_direct_test 'Devices/MapDirectDaxTest.*'
gtest "RDMA registrar unit tests over rxe (memory device)" mdfs_rdma_test 'RdmaRegistrationTest.*'
MDFS_TEST_DEVICE_DAX=$DAX2M gtest "RDMA cycle on mdfs on $DAX2M" mdfs_rdma_test 'RdmaCycle.DeviceDax*'

say "device-dax, 4 KiB alignment: $DAX4K"
MDFS_TEST_DEVICE_DAX=$DAX4K gtest "DaxDevice.DeviceDax* on $DAX4K" mdfs_device_test 'DaxDevice.DeviceDax*'
MDFS_TEST_DEVICE_DAX=$DAX4K gtest "MapDirect on $DAX4K: every extent maps" mdfs_direct_test 'Devices/MapDirectDaxTest.*RealDeviceDax'
MDFS_TEST_DEVICE_DAX=$DAX4K gtest "RDMA cycle on mdfs on $DAX4K" mdfs_rdma_test 'RdmaCycle.DeviceDax*'

say "durable 64 B / 4 KiB updates (mdfs_bench_direct section 1, one run each; TCG: ratios only)"
mount -t ext4 -o dax /dev/pmem0 /mnt/pmem
bench() {  # bench NAME ARGS...: runs mdfs_bench_direct; BENCH: lines are its summary
  name=$1; shift
  echo "    \$ mdfs_bench_direct $*"
  if mdfs_bench_direct "$@" >/tmp/bench.out 2>&1; then
    sed 's/^/    | /' /tmp/bench.out
    sed -n '/^## Summary/,$p' /tmp/bench.out | grep -E '[0-9]x$|^done' | sed "s|^|BENCH: $name: |"
    grep -q 'cpu-cache' /tmp/bench.out && ok "bench $name (image persistence cpu-cache)" || bad "bench $name: no cpu-cache"
  else
    sed 's/^/    | /' /tmp/bench.out; bad "bench $name"
  fi
}
BENCH_ARGS="--dir /mnt/pmem --sections 1 --iterations ${LANE_BENCH_ITERATIONS:-200} --bandwidth-mib 8 --map-big-mib 8"
bench "mdfs on $DAX2M vs ext4-dax" $BENCH_ARGS --image $DAX2M
bench "mdfs image on ext4-dax (MAP_SYNC) vs ext4-dax" $BENCH_ARGS --image-device mapped
umount /mnt/pmem

say "bad input: a device-dax holding ext4; the smallest device-dax"
ndctl create-namespace -f -e namespace0.0 -m devdax >/dev/null 2>&1
if [ -c /dev/dax0.0 ]; then
  refuse "mkfs /dev/dax0.0 holding ext4 refused without --force" "ext2/ext3/ext4 file system" mdfs mkfs /dev/dax0.0
  expect "mkfs /dev/dax0.0 --force" "formatted" mdfs mkfs /dev/dax0.0 --force
  expect "df /dev/dax0.0: cpu-cache" 'Persistence: +cpu-cache' mdfs df /dev/dax0.0
  expect "fsck /dev/dax0.0" "clean" mdfs fsck /dev/dax0.0
else
  bad "namespace0.0 as devdax"
fi
# ndctl's smallest namespace here is 16 MiB (14 MiB of device-dax, 7 units
# of 2 MiB), which mdfs's rule never finds too small: its metadata takes at
# most 75% of a device, so a whole unit is always left from 6 MiB up. The
# rule (no whole unit left for data: refused) is tested on the host
# (tools/device_dax_room_test.cc); here, the smallest device-dax formats.
ndctl destroy-namespace -f namespace0.2 >/dev/null 2>&1
ndctl create-namespace -r region0 -m devdax -a 2M -s 16M >/dev/null 2>&1
tiny=$(ls /dev/dax0.* 2>/dev/null | grep -v -e 'dax0.0$' -e 'dax0.1$' | head -1)
if [ -n "$tiny" ]; then
  echo "    $tiny: a 16 MiB devdax namespace, $(cat /sys/bus/dax/devices/$(basename $tiny)/size) bytes of device-dax"
  expect "mkfs --force on the smallest device-dax ndctl makes ($tiny)" "formatted" mdfs mkfs $tiny --force
else
  bad "a 16 MiB devdax namespace"
fi

echo "MDFS-LANE: SUMMARY pass=$PASS fail=$FAIL"
