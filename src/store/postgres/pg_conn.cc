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
  e.message = primary ? primary : PQerrorMessage(conn_);
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
    if (PQputCopyData(conn_, data.data() + off, static_cast<int>(n)) != 1) {
      return std::unexpected(PgError{"", "", PQerrorMessage(conn_)});
    }
  }
  if (PQputCopyEnd(conn_, nullptr) != 1) {
    return std::unexpected(PgError{"", "", PQerrorMessage(conn_)});
  }
  std::expected<void, PgError> outcome;
  while ((res = PQgetResult(conn_)) != nullptr) {
    if (PQresultStatus(res) != PGRES_COMMAND_OK && outcome) outcome = std::unexpected(ErrorOf(res));
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

Error ToError(const PgError& e) {
  return Error{ErrorCode::kStorage, fmt::format("postgresql: {}", e.message)};
}

}  // namespace reftrack::pg
