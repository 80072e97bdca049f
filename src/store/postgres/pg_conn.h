// A thin RAII layer over libpq: a connection, results, and commands with bound
// parameters (text format). Values are never spliced into SQL.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace reftrack::pg {

// Owns a PGresult.
class Rows {
 public:
  explicit Rows(PGresult* res) : res_(res) {}
  Rows(Rows&& other) noexcept : res_(other.res_) { other.res_ = nullptr; }
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;
  ~Rows() { PQclear(res_); }

  int size() const { return PQntuples(res_); }
  bool IsNull(int row, int col) const { return PQgetisnull(res_, row, col) == 1; }
  std::string Text(int row, int col) const {
    return std::string(PQgetvalue(res_, row, col), PQgetlength(res_, row, col));
  }
  std::optional<std::string> OptText(int row, int col) const {
    if (IsNull(row, col)) return std::nullopt;
    return Text(row, col);
  }
  int64_t Int(int row, int col) const { return std::stoll(PQgetvalue(res_, row, col)); }
  std::optional<int64_t> OptInt(int row, int col) const {
    if (IsNull(row, col)) return std::nullopt;
    return Int(row, col);
  }

 private:
  PGresult* res_;
};

// Parameters for one command: each is text or SQL NULL.
class Params {
 public:
  Params& Add(std::string_view v) {
    values_.emplace_back(v);
    return *this;
  }
  Params& Add(int64_t v) {
    values_.emplace_back(std::to_string(v));
    return *this;
  }
  Params& Add(const std::optional<std::string>& v) {
    values_.push_back(v);
    return *this;
  }
  Params& Add(const std::optional<int64_t>& v) {
    if (v) return Add(*v);
    values_.emplace_back(std::nullopt);
    return *this;
  }
  int size() const { return static_cast<int>(values_.size()); }
  std::vector<const char*> Pointers() const;

 private:
  std::vector<std::optional<std::string>> values_;
};

// A failed command: SQLSTATE (e.g. "23505" unique violation), constraint, message.
struct PgError {
  std::string sqlstate;
  std::string constraint;
  std::string message;
  // In a COPY, the data line (from 1) the server was reading when it failed; else 0.
  int64_t copy_line = 0;
};

class Connection {
 public:
  static Result<std::unique_ptr<Connection>> Open(const std::string& url);
  ~Connection() { PQfinish(conn_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs `sql` with `params`; statements are prepared once by name when `name` is set.
  std::expected<Rows, PgError> Query(std::string_view sql, const Params& params = {});
  // Runs SQL text without parameters (several statements allowed).
  std::expected<void, PgError> Exec(std::string_view sql);
  // True inside a transaction that an earlier error aborted: COMMIT would only roll back.
  bool InFailedTransaction() const { return PQtransactionStatus(conn_) == PQTRANS_INERROR; }
  // COPY ... FROM STDIN with `data` in text format.
  std::expected<void, PgError> Copy(std::string_view copy_sql, std::string_view data);

 private:
  explicit Connection(PGconn* conn) : conn_(conn) {}
  PgError ErrorOf(PGresult* res) const;
  std::unexpected<PgError> AbandonCopy();
  std::expected<void, PgError> CopyOutcome();
  PGconn* conn_;
};

// Appends `value` to a COPY text-format line, escaping tab, newline, CR and backslash.
void AppendCopyField(std::string& line, std::string_view value);
inline void AppendCopyNull(std::string& line) { line += "\\N"; }

// The text of a one-dimensional array literal, {"a","b"}: every element double-quoted,
// " and \ escaped with a backslash. Bound as one parameter cast to text[] or bigint[].
std::string ArrayLiteral(std::span<const std::string> values);
std::string ArrayLiteral(std::span<const std::string_view> values);
std::string ArrayLiteral(std::span<const int64_t> values);

// "storage error while <operation>: <the server's message>"; a deadlock or a
// serialization failure is marked Error::conflict.
Error ToError(std::string_view operation, const PgError& e);

}  // namespace reftrack::pg
