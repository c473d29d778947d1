// The gate every block-map change passes (the BlockMapListener protocol of
// include/mdfs/file_system.h), engine side.
//
// A public operation that may change a block map runs inside RunAsBreaker:
// PrepareBlockMapChange (deep inside the operation, engine lock held) asks
// the listener; when the listener says "wait", the operation aborts with
// nothing changed, RunAsBreaker waits outside the engine lock and runs the
// whole operation again. One OperationBreak per public call on the stack
// of the calling thread carries the listener's registration id between the
// attempts and ends it when the call returns.
#ifndef MDFS_SRC_ENGINE_BREAK_GATE_H_
#define MDFS_SRC_ENGINE_BREAK_GATE_H_

#include <cstdint>
#include <type_traits>

#include "engine/block_map_gate.h"
#include "mdfs/file_system.h"

namespace mdfs {

class OperationBreak {
 public:
  OperationBreak();
  ~OperationBreak();  // EndBlockMapChange of the registration, if any
  OperationBreak(const OperationBreak&) = delete;
  OperationBreak& operator=(const OperationBreak&) = delete;

  // The innermost OperationBreak of the calling thread, or nullptr.
  static OperationBreak* Current();

  // Engine lock held: asks the listener about `change`. OK: proceed.
  // kWouldBlock after marking must_wait(): abandon the operation.
  Status Begin(BlockMapListener* listener, const BlockMapChange& change);
  bool must_wait() const { return must_wait_; }
  // Engine lock NOT held: waits for the recall; OK means "run again".
  Status Wait();

 private:
  BlockMapListener* listener_ = nullptr;
  uint64_t id_ = 0;
  bool must_wait_ = false;
  OperationBreak* previous_;
};

// Runs `attempt` (which takes the engine lock itself) until it completes
// without having to wait for a recall.
template <typename Attempt>
auto RunAsBreaker(Attempt&& attempt) -> std::invoke_result_t<Attempt&> {
  OperationBreak operation;
  for (;;) {
    auto result = attempt();
    if (!operation.must_wait()) return result;
    Status waited = operation.Wait();
    if (!waited.ok()) return waited;
  }
}

}  // namespace mdfs

#endif  // MDFS_SRC_ENGINE_BREAK_GATE_H_
