// Loopback RC queue pairs on the first verbs device (soft-RoCE rxe in the
// qemu lane) for the RDMA registrar's tests: side A owns the MAP_DIRECT
// range (the "server"), side B is the peer that RDMA-writes and -reads it.
// Without a verbs device, Skip() names why (the tests then GTEST_SKIP).
#ifndef MDFS_SRC_RDMA_RDMA_TEST_UTIL_H_
#define MDFS_SRC_RDMA_RDMA_TEST_UTIL_H_

#include <infiniband/verbs.h>
#include <stdlib.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

namespace mdfs::rdma_test {

class Loopback {
 public:
  static constexpr size_t kPeerBufferBytes = 1u << 20;

  Loopback() { skip_ = Open(); }
  ~Loopback() {
    if (peer_mr_ != nullptr) ibv_dereg_mr(peer_mr_);
    for (ibv_qp* qp : {qp_a_, qp_b_}) {
      if (qp != nullptr) ibv_destroy_qp(qp);
    }
    for (ibv_cq* cq : {cq_a_, cq_b_}) {
      if (cq != nullptr) ibv_destroy_cq(cq);
    }
    for (ibv_pd* pd : {pd_a_, pd_b_}) {
      if (pd != nullptr) ibv_dealloc_pd(pd);
    }
    if (context_ != nullptr) ibv_close_device(context_);
    free(peer_buffer_);
  }
  Loopback(const Loopback&) = delete;
  Loopback& operator=(const Loopback&) = delete;

  // Empty when usable; else why not.
  const std::string& skip() const { return skip_; }
  ibv_pd* pd_a() { return pd_a_; }
  ibv_qp* qp_a() { return qp_a_; }
  ibv_cq* cq_a() { return cq_a_; }
  ibv_qp* qp_b() { return qp_b_; }
  char* peer_buffer() { return peer_buffer_; }
  std::string device_name() const { return device_name_; }

  // The peer (B) posts one signalled RDMA WRITE or READ of `length` bytes
  // between its buffer and [remote_address, +length) with `rkey`, and
  // returns the completion status (IBV_WC_SUCCESS, IBV_WC_REM_ACCESS_ERR, ...),
  // or -errno when posting failed, or -ETIMEDOUT.
  int PeerOp(ibv_wr_opcode opcode, uint64_t remote_address, uint32_t rkey, size_t length) {
    ibv_sge sge{};
    sge.addr = reinterpret_cast<uintptr_t>(peer_buffer_);
    sge.length = static_cast<uint32_t>(length);
    sge.lkey = peer_mr_->lkey;
    ibv_send_wr wr{};
    wr.wr_id = ++next_wr_id_;
    wr.sg_list = &sge;
    wr.num_sge = 1;
    wr.opcode = opcode;
    wr.send_flags = IBV_SEND_SIGNALED;
    wr.wr.rdma.remote_addr = remote_address;
    wr.wr.rdma.rkey = rkey;
    ibv_send_wr* bad = nullptr;
    const int posted = ibv_post_send(qp_b_, &wr, &bad);
    if (posted != 0) return -posted;
    ibv_wc wc{};
    if (!Poll(cq_b_, wc, std::chrono::seconds(20))) return -ETIMEDOUT;
    return wc.status;
  }

  // Polls one completion of `cq` for up to `timeout`.
  static bool Poll(ibv_cq* cq, ibv_wc& wc, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const int n = ibv_poll_cq(cq, 1, &wc);
      if (n < 0) return false;
      if (n == 1) return true;
    }
    return false;
  }

  // Brings the peer's QP back after an error completion moved it to the
  // error state (RESET -> INIT -> RTR -> RTS), and A's with it.
  bool Reconnect() {
    for (ibv_qp* qp : {qp_a_, qp_b_}) {
      ibv_qp_attr attr{};
      attr.qp_state = IBV_QPS_RESET;
      if (ibv_modify_qp(qp, &attr, IBV_QP_STATE) != 0) return false;
      if (!Init(qp)) return false;
    }
    return Connect(qp_a_, qp_b_->qp_num) && Connect(qp_b_, qp_a_->qp_num);
  }

 private:
  std::string Open() {
    int count = 0;
    ibv_device** list = ibv_get_device_list(&count);
    if (list == nullptr || count == 0) {
      const int error = errno;
      if (list != nullptr) ibv_free_device_list(list);
      return std::string("no RDMA device: ibv_get_device_list found none (") +
             std::strerror(error) +
             "); load rdma_rxe and run 'rdma link add rxe0 type rxe netdev IFACE', as "
             "scripts/qemu-lane.sh does in its guest";
    }
    device_name_ = ibv_get_device_name(list[0]);
    context_ = ibv_open_device(list[0]);
    ibv_free_device_list(list);
    if (context_ == nullptr) return "ibv_open_device " + device_name_ + " failed";
    if (!PickGid()) return device_name_ + " has no usable GID on port 1";
    pd_a_ = ibv_alloc_pd(context_);
    pd_b_ = ibv_alloc_pd(context_);
    cq_a_ = ibv_create_cq(context_, 64, nullptr, nullptr, 0);
    cq_b_ = ibv_create_cq(context_, 64, nullptr, nullptr, 0);
    if (!pd_a_ || !pd_b_ || !cq_a_ || !cq_b_) return "ibv_alloc_pd/ibv_create_cq failed";
    peer_buffer_ = static_cast<char*>(aligned_alloc(4096, kPeerBufferBytes));
    peer_mr_ = ibv_reg_mr(pd_b_, peer_buffer_, kPeerBufferBytes, IBV_ACCESS_LOCAL_WRITE);
    if (peer_mr_ == nullptr) return "ibv_reg_mr of the peer's buffer failed";
    qp_a_ = CreateQp(pd_a_, cq_a_);
    qp_b_ = CreateQp(pd_b_, cq_b_);
    if (!qp_a_ || !qp_b_) return "ibv_create_qp failed";
    if (!Init(qp_a_) || !Init(qp_b_)) return "ibv_modify_qp INIT failed";
    if (!Connect(qp_a_, qp_b_->qp_num) || !Connect(qp_b_, qp_a_->qp_num)) {
      return "ibv_modify_qp RTR/RTS failed";
    }
    return "";
  }

  // RoCE needs a GID: prefer an IPv4-mapped one (::ffff:a.b.c.d).
  bool PickGid() {
    ibv_port_attr port{};
    if (ibv_query_port(context_, 1, &port) != 0) return false;
    static const uint8_t kZero[16] = {};
    for (int i = 0; i < port.gid_tbl_len && i < 16; ++i) {
      ibv_gid gid{};
      if (ibv_query_gid(context_, 1, i, &gid) != 0 || std::memcmp(gid.raw, kZero, 16) == 0) {
        continue;
      }
      const bool v4 =
          std::memcmp(gid.raw, kZero, 10) == 0 && gid.raw[10] == 0xff && gid.raw[11] == 0xff;
      if (gid_index_ < 0 || v4) {
        gid_index_ = i;
        gid_ = gid;
        if (v4) break;
      }
    }
    return gid_index_ >= 0;
  }

  static ibv_qp* CreateQp(ibv_pd* pd, ibv_cq* cq) {
    ibv_qp_init_attr init{};
    init.send_cq = cq;
    init.recv_cq = cq;
    init.qp_type = IBV_QPT_RC;
    init.cap.max_send_wr = 32;
    init.cap.max_recv_wr = 32;
    init.cap.max_send_sge = 1;
    init.cap.max_recv_sge = 1;
    return ibv_create_qp(pd, &init);
  }

  static bool Init(ibv_qp* qp) {
    ibv_qp_attr attr{};
    attr.qp_state = IBV_QPS_INIT;
    attr.port_num = 1;
    attr.qp_access_flags =
        IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ;
    return ibv_modify_qp(qp, &attr,
                         IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_ACCESS_FLAGS) == 0;
  }

  bool Connect(ibv_qp* qp, uint32_t remote_qpn) {
    ibv_qp_attr attr{};
    attr.qp_state = IBV_QPS_RTR;
    attr.path_mtu = IBV_MTU_1024;
    attr.dest_qp_num = remote_qpn;
    attr.max_dest_rd_atomic = 1;
    attr.min_rnr_timer = 12;
    attr.ah_attr.is_global = 1;
    attr.ah_attr.grh.dgid = gid_;
    attr.ah_attr.grh.sgid_index = static_cast<uint8_t>(gid_index_);
    attr.ah_attr.grh.hop_limit = 1;
    attr.ah_attr.port_num = 1;
    if (ibv_modify_qp(qp, &attr,
                      IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
                          IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER) != 0) {
      return false;
    }
    attr = ibv_qp_attr{};
    attr.qp_state = IBV_QPS_RTS;
    attr.timeout = 14;
    attr.retry_cnt = 7;
    attr.rnr_retry = 7;
    attr.max_rd_atomic = 1;
    return ibv_modify_qp(qp, &attr,
                         IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |
                             IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC) == 0;
  }

  std::string skip_;
  std::string device_name_;
  ibv_context* context_ = nullptr;
  ibv_pd* pd_a_ = nullptr;
  ibv_pd* pd_b_ = nullptr;
  ibv_cq* cq_a_ = nullptr;
  ibv_cq* cq_b_ = nullptr;
  ibv_qp* qp_a_ = nullptr;
  ibv_qp* qp_b_ = nullptr;
  ibv_mr* peer_mr_ = nullptr;
  char* peer_buffer_ = nullptr;
  int gid_index_ = -1;
  ibv_gid gid_{};
  uint64_t next_wr_id_ = 0;
};

}  // namespace mdfs::rdma_test

#endif  // MDFS_SRC_RDMA_RDMA_TEST_UTIL_H_
