#!/bin/sh
# Runs inside the qemu lane's guest (busybox sh), from the read-only 9p
# share that scripts/qemu-lane.sh prepared at /mnt/host. Each check prints
# "MDFS-LANE: PASS name" or "MDFS-LANE: FAIL name"; the last line is
# "MDFS-LANE: SUMMARY pass=N fail=M".
H=/mnt/host
export PATH=$H/bin:/sbin:/bin LD_LIBRARY_PATH=$H/lib:/lib/x86_64-linux-gnu
PASS=0; FAIL=0
ok() { echo "MDFS-LANE: PASS $*"; PASS=$((PASS + 1)); }
bad() { echo "MDFS-LANE: FAIL $*"; FAIL=$((FAIL + 1)); }
# expect NAME PATTERN CMD...: runs CMD, shows its output, passes when it
# exits 0 and prints PATTERN (grep -E).
expect() {
  name=$1; pattern=$2; shift 2
  out=$("$@" 2>&1); rc=$?
  echo "$out" | sed 's/^/    /'
  if [ $rc -eq 0 ] && echo "$out" | grep -qE "$pattern"; then ok "$name"; else bad "$name (rc=$rc)"; fi
}
# refuse NAME PATTERN CMD...: CMD must fail and print PATTERN.
refuse() {
  name=$1; pattern=$2; shift 2
  out=$("$@" 2>&1); rc=$?
  echo "$out" | sed 's/^/    /'
  if [ $rc -ne 0 ] && echo "$out" | grep -qE "$pattern"; then ok "$name"; else bad "$name (rc=$rc)"; fi
}
gtest() {  # gtest NAME BINARY FILTER: passes when no test failed and none skipped
  name=$1; bin=$2; filter=$3
  out=$($bin --gtest_filter="$filter" 2>&1); rc=$?
  echo "$out" | grep -E '^\[ +(OK|FAILED|SKIPPED|PASSED) +\]|RDMA-CYCLE:|PERSIST:|Failure|Expected|Which is|skip' | sed 's/^/    /'
  if [ $rc -eq 0 ] && ! echo "$out" | grep -q '\[  SKIPPED \]'; then ok "$name"; else bad "$name (rc=$rc)"; fi
}

echo "MDFS-LANE: kernel $(uname -r), $(nproc) vCPUs, TCG"
# soft-RoCE first: the fs-dax registration check needs it.
ip link add dummy0 type dummy 2>/dev/null; ip link set dummy0 up
ip addr add 192.168.77.1/24 dev dummy0 2>/dev/null
rdma link add rxe0 type rxe netdev dummy0 && ok "soft-RoCE rxe0 on dummy0" || bad "soft-RoCE rxe0"

echo "MDFS-LANE: ---- fs-dax: ext4 -o dax on /dev/pmem0"
ndctl create-namespace -f -e namespace0.0 -m fsdax --map=dev >/dev/null 2>&1
[ -b /dev/pmem0 ] && ok "fsdax namespace /dev/pmem0" || bad "fsdax namespace"
mkfs.ext4 -q -F -b 4096 /dev/pmem0
refuse "mkfs refuses /dev/pmem0 holding ext4 (no --force)" "ext2/ext3/ext4 file system" mdfs mkfs /dev/pmem0
mount -t ext4 -o dax /dev/pmem0 /mnt/pmem && ok "mount ext4 -o dax" || bad "mount ext4 -o dax"
expect "mkfs image on ext4-dax" "formatted" mdfs --access mmap mkfs /mnt/pmem/fs.img --size 64M
expect "df on ext4-dax --access mmap: cpu-cache (MAP_SYNC granted)" '"persistence_mode": *"cpu-cache"' \
  mdfs --access mmap df /mnt/pmem/fs.img --json
expect "df on ext4-dax --access pread: fdatasync" 'Persistence +fdatasync' mdfs df /mnt/pmem/fs.img
echo hello-from-ext4-dax | mdfs --access mmap put /mnt/pmem/fs.img - /hello >/dev/null
expect "fsck ext4-dax image" "clean" mdfs --access mmap fsck /mnt/pmem/fs.img
MDFS_TEST_FSDAX_DIR=/mnt/pmem gtest "DaxDevice.FsDax* (MAP_SYNC device test)" mdfs_device_test 'DaxDevice.FsDax*:DaxDevice.CharacterDevice*'
MDFS_TEST_FSDAX_DIR=/mnt/pmem gtest "RDMA registration on fs-dax refused with EOPNOTSUPP" mdfs_rdma_test 'RdmaCycle.FsDax*'
MDFS_TEST_FSDAX_DIR=/mnt/pmem gtest "persistence on ext4-dax" mdfs_rdma_test 'LanePersist.FsDax*'
umount /mnt/pmem

echo "MDFS-LANE: ---- the same ext4 without dax"
mount -t ext4 -o dax=never /dev/pmem0 /mnt/pmem && ok "mount ext4 -o dax=never" || bad "mount ext4 -o dax=never"
expect "df on non-dax ext4 --access mmap: msync (MAP_SYNC refused)" '"persistence_mode": *"msync"' \
  mdfs --access mmap df /mnt/pmem/fs.img --json
umount /mnt/pmem

echo "MDFS-LANE: ---- device-dax: /dev/dax0.0"
ndctl create-namespace -f -e namespace0.0 -m devdax >/dev/null 2>&1
[ -c /dev/dax0.0 ] && ok "devdax namespace /dev/dax0.0 (align $(cat /sys/bus/dax/devices/dax0.0/align 2>/dev/null))" || bad "devdax namespace"
if mdfs mkfs /dev/dax0.0 >/tmp/mkfs.out 2>&1; then
  cat /tmp/mkfs.out | sed 's/^/    /'; ok "mkfs /dev/dax0.0 (it was blank)"
else
  sed 's/^/    /' /tmp/mkfs.out
  grep -q "use --force" /tmp/mkfs.out && ok "mkfs /dev/dax0.0 refuses old data without --force" || bad "mkfs /dev/dax0.0"
  expect "mkfs /dev/dax0.0 --force" "formatted" mdfs mkfs /dev/dax0.0 --force
fi
refuse "mkfs /dev/dax0.0 again refuses (mdfs signature)" "mdfs file system" mdfs mkfs /dev/dax0.0
refuse "mkfs /dev/dax0.0 --size mismatch refused" "cannot resize a device-dax" mdfs mkfs /dev/dax0.0 --size 64M --force
expect "df /dev/dax0.0: cpu-cache, device-dax" 'Persistence +cpu-cache' mdfs df /dev/dax0.0
mdfs df /dev/dax0.0 --json | grep -E 'persistence|device' | sed 's/^/    /'
echo hello-from-device-dax | mdfs put /dev/dax0.0 - /hello >/dev/null
expect "get from /dev/dax0.0" "hello-from-device-dax" mdfs get /dev/dax0.0 /hello -
expect "fsck /dev/dax0.0" "clean" mdfs fsck /dev/dax0.0
MDFS_TEST_DEVICE_DAX=/dev/dax0.0 gtest "DaxDevice.DeviceDax* (device test)" mdfs_device_test 'DaxDevice.DeviceDax*'
gtest "RDMA registrar unit tests over rxe (memory device)" mdfs_rdma_test 'RdmaRegistrationTest.*'
MDFS_TEST_DEVICE_DAX=/dev/dax0.0 gtest "RDMA cycle on mdfs on /dev/dax0.0" mdfs_rdma_test 'RdmaCycle.DeviceDax*'
MDFS_TEST_DEVICE_DAX=/dev/dax0.0 gtest "persistence on device-dax" mdfs_rdma_test 'LanePersist.DeviceDax*'

echo "MDFS-LANE: SUMMARY pass=$PASS fail=$FAIL"
