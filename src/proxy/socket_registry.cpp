#include "proxy/socket_registry.h"

namespace awf::proxy {

void ConnectionRegistry::close_all() {
  for (Entry& entry : entries_) {
    boost::system::error_code ignored;
    entry.socket->close(ignored);
  }
}

void ConnectionRegistry::sweep(Clock::time_point now) {
  for (Entry& entry : entries_) {
    if (entry.expired || entry.deadline > now) continue;
    entry.expired = true;
    boost::system::error_code ignored;
    if (entry.cancel_only) {
      entry.socket->cancel(ignored);
    } else {
      entry.socket->close(ignored);
    }
  }
}

}  // namespace awf::proxy
