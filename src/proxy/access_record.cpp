#include "proxy/access_record.h"

#include "audit/audit_record.h"

namespace awf::proxy {
namespace {

audit::AccessRecord access_line(const Attempt& attempt) {
  audit::AccessRecord access;
  access.time_ms = audit::now_ms();
  access.client_ip = attempt.client.ip;
  access.client_port = attempt.client.port;
  access.host = attempt.host_field;
  if (attempt.destination) {
    const Endpoint destination = endpoint_of(*attempt.destination);
    access.dest_ip = destination.ip;
    access.dest_port = destination.port;
  }
  access.http_version = "1.1";
  access.method = attempt.method;
  access.status = attempt.status;
  access.squid_status = audit::squid_code(attempt.kind, attempt.allowed);
  access.hierarchy = !attempt.destination ? "HIER_NONE"
                     : attempt.via_parent ? "FIRSTUP_PARENT"
                                          : "HIER_DIRECT";
  access.url = attempt.url;
  access.user_agent = attempt.user_agent;
  return access;
}

audit::AuditRecord audit_line(const GatewayContext& context, const Attempt& attempt,
                              const audit::AccessRecord& access) {
  audit::AuditRecord audit;
  audit.time_ms = access.time_ms;
  audit.kind = attempt.kind;
  audit.transport = attempt.transport;
  audit.client = attempt.client.text();
  audit.name = attempt.name;
  audit.host = access.host;
  if (attempt.destination) audit.destination = endpoint_of(*attempt.destination).text();
  audit.decision = attempt.allowed ? "allow" : "deny";
  audit.reason = attempt.reason;
  if (attempt.destination && attempt.via_parent && context.options.parent) {
    audit.reason += "; via upstream proxy " + context.options.parent->authority();
  }
  audit.method = attempt.method;
  audit.url = attempt.url;
  audit.status = attempt.status;
  audit.bytes_up = attempt.counts.up;
  audit.bytes_down = attempt.counts.down;
  audit.rule = attempt.rule;
  audit.pid = attempt.process.pid;
  audit.command = attempt.process.command;
  audit.provider = attempt.provider;
  if (attempt.started) {
    audit.duration_ms =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::steady_clock::now() - *attempt.started)
                                       .count());
  }
  return audit;
}

}  // namespace

void record(GatewayContext& context, const Attempt& attempt) {
  const audit::AccessRecord access = access_line(attempt);
  context.log.write_access(access);
  context.log.write_audit(audit_line(context, attempt, access));
  // The API proxy's refusals other than the policy's (no key, a bad request) name no domain
  // the user could allow.
  if (!attempt.allowed && (attempt.kind != "api" || attempt.status == 403)) {
    context.log.note_denied(attempt.name);
  }
}

void take_verdict(Attempt& attempt, Verdict& verdict) {
  attempt.allowed = verdict.allowed();
  attempt.status = verdict.status;
  attempt.reason = std::move(verdict.reason);
  attempt.rule = verdict.rule;
  attempt.name = verdict.name;
  attempt.url = std::move(verdict.url);
  attempt.host_field = std::move(verdict.host_field);
}

}  // namespace awf::proxy
