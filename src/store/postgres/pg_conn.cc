#include "store/postgres/pg_conn.h"

#include <fmt/format.h>

namespace reftrack::pg {

std::vector<const char*> Params::Pointers() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (const auto& v : values_) out.push_back(v ? v->c_str() : nullptr);
  return out;
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& url) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn);
    PQfinish(conn);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return Fail(ErrorCode::kStorage, fmt::format("cannot connect to PostgreSQL: {}", msg));
  }
  return std::unique_ptr<Connection>(new Connection(conn));
}

PgError Connection::ErrorOf(PGresult* res) const {
  PgError e;
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const char* constraint = res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : nullptr;
  const char* primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  e.sqlstate = state ? state : "";
  e.constraint = constraint ? constraint : "";
  // The server's context for an error inside COPY reads "COPY referrals, line 12[...]"
  // (the last line of the context, below any trigger's).
  if (const char* context = res ? PQresultErrorField(res, PG_DIAG_CONTEXT) : nullptr) {
    std::string_view text(context);
    size_t copy = text.rfind("COPY ");
    size_t line = copy == std::string_view::npos ? copy : text.find(", line ", copy);
    if (line != std::string_view::npos) {
      for (size_t i = line + 7; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
        e.copy_line = e.copy_line * 10 + (text[i] - '0');
      }
    }
  }
  e.message = primary ? primary
              : conn_ ? PQerrorMessage(conn_)
                      : "the connection to PostgreSQL was dropped: a COPY could not be ended";
  while (!e.message.empty() && (e.message.back() == '\n' || e.message.back() == ' ')) {
    e.message.pop_back();
  }
  return e;
}

std::expected<Rows, PgError> Connection::Query(std::string_view sql, const Params& params) {
  std::string text(sql);
  std::vector<const char*> values = params.Pointers();
  PGresult* res =
      PQexecParams(conn_, text.c_str(), params.size(), nullptr, values.data(), nullptr, nullptr, 0);
  ExecStatusType status = PQresultStatus(res);
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    PgError e = ErrorOf(res);
    PQclear(res);
    return std::unexpected(e);
  }
  return Rows(res);
}

std::expected<void, PgError> Connection::Exec(std::string_view sql) {
  std::string text(sql);
  PGresult* res = PQexec(conn_, text.c_str());
  ExecStatusType status = PQresultStatus(res);
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    PgError e = ErrorOf(res);
    PQclear(res);
    return std::unexpected(e);
  }
  PQclear(res);
  return {};
}

std::expected<void, PgError> Connection::Copy(std::string_view copy_sql, std::string_view data) {
  std::string text(copy_sql);
  PGresult* res = PQexec(conn_, text.c_str());
  if (PQresultStatus(res) != PGRES_COPY_IN) {
    PgError e = ErrorOf(res);
    PQclear(res);
    return std::unexpected(e);
  }
  PQclear(res);
  constexpr size_t kChunk = 1 << 20;
  for (size_t off = 0; off < data.size(); off += kChunk) {
    size_t n = std::min(kChunk, data.size() - off);
    if (PQputCopyData(conn_, data.data() + off, static_cast<int>(n)) != 1) return AbandonCopy();
  }
  if (PQputCopyEnd(conn_, nullptr) != 1) return AbandonCopy();
  return CopyOutcome();
}

// A server that rejects a row (a constraint, a bad byte) answers at once, while
// data is still being sent: libpq then leaves COPY mode, PQputCopyData fails, and
// the server's error waits to be read. Until every result is read, each later
// command would fail with "another command is already in progress".
std::unexpected<PgError> Connection::AbandonCopy() {
  std::string local = PQerrorMessage(conn_);
  // Ends the COPY if it is still open (the server then rolls the statement back);
  // fails harmlessly when libpq has left COPY mode already.
  (void)PQputCopyEnd(conn_, "reftrack: COPY abandoned");
  std::expected<void, PgError> outcome = CopyOutcome();
  if (!outcome) return std::unexpected(outcome.error());
  while (!local.empty() && (local.back() == '\n' || local.back() == ' ')) local.pop_back();
  return std::unexpected(PgError{"", "", local});
}

// Reads every result of a COPY that has ended: the first error, if any. A broken
// connection gives an error too; a COPY that could not be ended leaves libpq in
// COPY mode for good, so the connection is reported broken and dropped.
std::expected<void, PgError> Connection::CopyOutcome() {
  std::expected<void, PgError> outcome;
  PGresult* res;
  while ((res = PQgetResult(conn_)) != nullptr) {
    ExecStatusType status = PQresultStatus(res);
    if (status == PGRES_COPY_IN) {
      PQclear(res);
      PQfinish(conn_);
      conn_ = nullptr;  // libpq fails every later command on it, with ErrorOf's message
      if (outcome) outcome = std::unexpected(ErrorOf(nullptr));
      break;
    }
    if (status != PGRES_COMMAND_OK && outcome) outcome = std::unexpected(ErrorOf(res));
    PQclear(res);
  }
  return outcome;
}

void AppendCopyField(std::string& line, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\':
        line += "\\\\";
        break;
      case '\t':
        line += "\\t";
        break;
      case '\n':
        line += "\\n";
        break;
      case '\r':
        line += "\\r";
        break;
      default:
        line += c;
    }
  }
}

namespace {

template <class Text>
std::string TextArray(std::span<const Text> values) {
  std::string out = "{";
  for (std::string_view v : values) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (char c : v) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace

std::string ArrayLiteral(std::span<const std::string> values) { return TextArray(values); }
std::string ArrayLiteral(std::span<const std::string_view> values) { return TextArray(values); }

std::string ArrayLiteral(std::span<const int64_t> values) {
  std::string out = "{";
  for (int64_t v : values) {
    if (out.size() > 1) out += ',';
    out += '"';
    out += std::to_string(v);
    out += '"';
  }
  out += '}';
  return out;
}

Error ToError(std::string_view operation, const PgError& e) {
  // Class 40, transaction rollback: 40P01 deadlock_detected, 40001 serialization_failure.
  bool conflict = e.sqlstate == "40P01" || e.sqlstate == "40001";
  return Error{ErrorCode::kStorage, fmt::format("storage error while {}: {}", operation, e.message),
               conflict};
}

}  // namespace reftrack::pg
