// Names of layout modes and states; the per-thread BreakScope.
#include "lease/leases.h"
#include "mdfs/lease.h"

namespace mdfs {

namespace {
const BreakOptions kDefaultBreakOptions;
thread_local const BreakScope* current_scope = nullptr;
}  // namespace

const char* LayoutModeName(LayoutMode mode) {
  switch (mode) {
    case LayoutMode::kRead:
      return "read";
    case LayoutMode::kReadWrite:
      return "rw";
  }
  return "unknown";
}

const char* LayoutStateName(LayoutState state) {
  switch (state) {
    case LayoutState::kGranted:
      return "granted";
    case LayoutState::kRecalling:
      return "recalling";
    case LayoutState::kReleased:
      return "released";
    case LayoutState::kRevoked:
      return "revoked";
  }
  return "unknown";
}

BreakScope::BreakScope(const BreakOptions& options) : options_(options), previous_(current_scope) {
  current_scope = this;
}

BreakScope::~BreakScope() { current_scope = previous_; }

const BreakOptions& BreakScope::Current() {
  return current_scope != nullptr ? current_scope->options_ : kDefaultBreakOptions;
}

}  // namespace mdfs
