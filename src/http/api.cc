#include "http/api.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <span>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "domain/normalize.h"
#include "engine/bulk_file.h"
#include "engine/bulk_update.h"
#include "engine/json.h"
#include "engine/qualify_upload.h"
#include "http/request_body.h"
#include "http/web_session.h"

namespace reftrack::http {

using nlohmann::json;

// A few threads for work that takes long and changes nothing: dry runs of uploads.
class TaskPool {
 public:
  explicit TaskPool(int threads) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
  }
  ~TaskPool() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_all();
    for (std::thread& t : threads_) t.join();
  }
  void Post(std::function<void()> task) {
    {
      std::lock_guard lock(mutex_);
      tasks_.push_back(std::move(task));
    }
    ready_.notify_one();
  }

 private:
  void Run() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
        if (tasks_.empty()) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// Every 100 ms, on a thread and engine (connection) of its own: the store's housekeeping
// (SQLite's checkpoints: when a commit checkpoints, which SQLite does once the log has
// 1000 pages to keep it from growing without end, it finds the pages already copied,
// and the requests waiting for that commit do not wait for the copying), and `tick`
// (the access log's flush: lines show within 100 ms without a write per request).
class Housekeeper {
 public:
  Housekeeper(std::unique_ptr<Engine> engine, std::function<void()> tick)
      : engine_(std::move(engine)), tick_(std::move(tick)), thread_([this] { Run(); }) {}
  ~Housekeeper() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

 private:
  void Run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      bool stopping =
          wake_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stopping_; });
      lock.unlock();
      (void)engine_->Housekeep();  // a failure now is retried at the next turn
      tick_();
      lock.lock();
      if (stopping) return;
    }
  }

  std::unique_ptr<Engine> engine_;
  std::function<void()> tick_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

namespace {

// Request::route_index of a request for one of the web page's files.
constexpr size_t kPageRoute = static_cast<size_t>(-1);

Response JsonOf(int status, const json& value) {
  return Json(status, value.dump(-1, ' ', false, json::error_handler_t::replace));
}

// A change over HTTP: by an API key (source api, actor api:NAME), or by a person in
// the web page (source manual, as from the command line; actor web:EMAIL).
// Which rewards ?campaign=&member=&referral=&state= asks for.
Result<RewardQuery> RewardQueryOf(const Request& request) {
  RewardQuery query;
  query.campaign = request.Query("campaign");
  query.member = request.Query("member");
  if (const std::string& r = request.Query("referral"); !r.empty()) {
    auto id = ParseId(r, "a referral");
    if (!id) return Fail(ErrorCode::kInvalidInput, "referral=" + id.error().message);
    query.referral_id = *id;
  }
  if (const std::string& s = request.Query("state"); !s.empty()) {
    auto state = ParseRewardState(s);
    if (!state) return Fail(ErrorCode::kInvalidInput, fmt::format("state={}: use issued or paid", s));
    query.state = *state;
  }
  return query;
}

// Who asked, as the access log and the progress board name them.
std::string CallerName(const Request& request) {
  if (request.user) return "web:" + request.user->email;
  return "api:" + (request.caller ? std::to_string(request.caller->id) : std::string("?"));
}

ChangeContext ApiContext(const Request& request) {
  ChangeContext context;
  if (request.user) {
    context.source = ChangeSource::kManual;
    context.actor = "web:" + request.user->email;
  } else {
    context.source = ChangeSource::kApi;
    context.actor = "api:" + (request.caller ? request.caller->name : std::string("?"));
  }
  return context;
}

// A query parameter that says yes or no.
Result<bool> BoolParam(const Request& request, const std::string& name, bool fallback) {
  const std::string& text = request.Query(name);
  if (text.empty()) return fallback;
  if (text == "true" || text == "1") return true;
  if (text == "false" || text == "0") return false;
  return Fail(ErrorCode::kInvalidInput,
              fmt::format("{}={}: use {}=true or {}=false", name, text, name, name));
}

// The campaign a path's {id} names: its id, or its name.
Result<Campaign> CampaignParam(Engine& engine, const std::string& text) {
  auto campaigns = engine.Campaigns();
  if (!campaigns) return std::unexpected(campaigns.error());
  for (Campaign& c : *campaigns) {
    if (std::to_string(c.id) == text || c.name == text) return std::move(c);
  }
  return Fail(ErrorCode::kNotFound, fmt::format("campaign \"{}\" does not exist", text));
}


bool IsJsonType(std::string_view content_type) {
  std::string type = LowerAscii(Trim(content_type.substr(0, content_type.find(';'))));
  return type == "application/json" || (type.starts_with("application/") && type.ends_with("+json"));
}

bool IsCsvType(std::string_view content_type) {
  std::string type = LowerAscii(Trim(content_type.substr(0, content_type.find(';'))));
  return type == "text/csv" || type == "text/plain";
}

// A CSV file to save, named `file_name`.
Response CsvAttachment(std::string csv, std::string_view file_name) {
  Response r;
  r.content_type = "text/csv; charset=utf-8";
  r.body = std::move(csv);
  r.headers.emplace_back("Content-Disposition", fmt::format("attachment; filename=\"{}\"", file_name));
  return r;
}

// /api/v1/session asked with an API key.
std::unexpected<Error> NotASession() {
  return Fail(ErrorCode::kInvalidInput,
              "/api/v1/session is the web page's sign-in; an API key has no session");
}

Response NoContent() {
  Response r;
  r.status = 204;
  r.content_type = "application/json";
  return r;
}

}  // namespace

Api::Api(ApiOptions options) : options_(std::move(options)), readers_(options_.db_url) {}

Api::~Api() = default;

Result<std::unique_ptr<Api>> Api::Create(ApiOptions options) {
  std::unique_ptr<Api> api(new Api(std::move(options)));
  std::vector<std::unique_ptr<Engine>> writers;
  for (int i = 0; i < std::max(1, api->options_.writers); ++i) {
    auto engine = Engine::Open(api->options_.db_url, Engine::Use::kServer);
    if (!engine) return std::unexpected(engine.error());
    writers.push_back(std::move(*engine));
  }
  auto housekeeping = Engine::Open(api->options_.db_url, Engine::Use::kServer);
  if (!housekeeping) return std::unexpected(housekeeping.error());
  api->housekeeper_ = std::make_unique<Housekeeper>(std::move(*housekeeping), [a = api.get()] {
    if (a->options_.access_log == nullptr) return;
    std::lock_guard lock(a->log_mutex_);
    std::fflush(a->options_.access_log);
  });
  api->writer_ = std::make_unique<WriteQueue>(std::move(writers));
  api->previews_ = std::make_unique<TaskPool>(2);
  api->AddRoutes();
  api->AddSessionRoutes();
  return api;
}

// A GET's read connection and snapshot, from checking its key to answering it: one
// read transaction for both.
struct ReadSession {
  EnginePool::Lease lease;
  std::optional<ReadSnapshot> snapshot;
};

void Api::Read(Method method, std::string pattern, Scope scope, ReadFn fn) {
  router_.Add(Route{method, std::move(pattern), scope, BodyKind::kSmall,
                    [this, fn = std::move(fn)](Request& request, Respond respond) {
                      std::shared_ptr<ReadSession> session =
                          std::static_pointer_cast<ReadSession>(std::move(request.state));
                      if (!session) {
                        auto lease = readers_.Acquire();
                        if (!lease) return respond(ProblemFor(lease.error()));
                        session = std::make_shared<ReadSession>(std::move(*lease));
                      }
                      auto answer = fn(session->lease.engine(), request);
                      session.reset();  // ends the snapshot before the answer is written
                      respond(answer ? std::move(*answer) : ProblemFor(answer.error()));
                    }});
}

void Api::Write(Method method, std::string pattern, Scope scope, WriteFn fn) {
  router_.Add(Route{method, std::move(pattern), scope, BodyKind::kSmall,
                    [this, fn](Request& request, Respond respond) {
                      writer_->Submit([fn, &request](Engine& engine) { return fn(engine, request); },
                                      std::move(respond));
                    }});
}

void Api::AddRoutes() {
  router_.Add(Route{Method::kGet, "/healthz", std::nullopt, BodyKind::kSmall,
                    [](Request&, Respond respond) { respond(Json(200, R"({"status":"ok"})")); }});
  router_.Add(Route{Method::kGet, "/metrics", std::nullopt, BodyKind::kSmall,
                    [this](Request&, Respond respond) {
                      Response r;
                      r.content_type = "text/plain; version=0.0.4";
                      r.body = metrics_.Render();
                      respond(std::move(r));
                    }});
  router_.Add(Route{Method::kGet, "/api/v1/openapi.json", Scope::kRead, BodyKind::kSmall,
                    [](Request&, Respond respond) {
                      respond(Json(200, std::string(OpenApiDocument())));
                    }});

  // --- referrals
  Read(Method::kGet, "/api/v1/referrals", Scope::kRead,
       [](Engine& engine, const Request& request) -> Result<Response> {
         ListRequest list;
         if (const std::string& s = request.Query("status"); !s.empty()) {
           auto status = ParseStatus(s);
           if (!status) {
             return Fail(ErrorCode::kInvalidInput,
                         fmt::format("status={}: use pending, qualified, approved or denied", s));
           }
           list.status = *status;
         }
         list.campaign = request.Query("campaign");
         list.query = request.Query("q");
         list.cursor = request.Query("cursor");
         if (const std::string& l = request.Query("limit"); !l.empty()) {
           int limit = 0;
           auto [end, ec] = std::from_chars(l.data(), l.data() + l.size(), limit);
           if (ec != std::errc() || end != l.data() + l.size() || limit < 1 || limit > 1000) {
             return Fail(ErrorCode::kInvalidInput,
                         fmt::format("limit={}: use a number from 1 to 1000", l));
           }
           list.limit = limit;
         }
         auto page = engine.List(list);
         if (!page) return std::unexpected(page.error());
         return JsonOf(200, ToJson(*page));
       });
  Read(Method::kGet, "/api/v1/referrals/{id}", Scope::kRead,
       [](Engine& engine, const Request& request) -> Result<Response> {
         auto id = ParseId(request.params[0], "a referral");
         if (!id) return std::unexpected(id.error());
         auto details = engine.Details(*id);
         if (!details) return std::unexpected(details.error());
         json out = ToJson(*details);
         out["transitions"] = TransitionsJson(details->referral);
         return JsonOf(200, out);
       });
  Write(Method::kPost, "/api/v1/referrals", Scope::kWrite,
        [](Engine& engine, const Request& request) -> Result<Response> {
          auto body = BodyObject(request.body);
          if (!body) return std::unexpected(body.error());
          auto input = ReferralBody(*body);
          if (!input) return std::unexpected(input.error());
          auto referral = engine.AddReferral(*input);
          if (!referral) return std::unexpected(referral.error());
          Response r = JsonOf(201, ToJson(*referral));
          r.headers.emplace_back("Location", fmt::format("/api/v1/referrals/{}", referral->id));
          return r;
        });
  Write(Method::kPatch, "/api/v1/referrals/{id}", Scope::kWrite,
        [](Engine& engine, const Request& request) -> Result<Response> {
          auto id = ParseId(request.params[0], "a referral");
          if (!id) return std::unexpected(id.error());
          auto body = BodyObject(request.body);
          if (!body) return std::unexpected(body.error());
          auto status = StatusField(*body);
          if (!status) return std::unexpected(status.error());
          auto note = NoteField(*body);
          if (!note) return std::unexpected(note.error());
          auto outcome = engine.ChangeStatus(*id, *status, ApiContext(request), *note);
          if (!outcome) return std::unexpected(outcome.error());
          return JsonOf(200, ToJson(*outcome));
        });
  Write(Method::kPost, "/api/v1/referrals/update", Scope::kWrite,
        [](Engine& engine, const Request& request) -> Result<Response> {
          auto body = BodyObject(request.body);
          if (!body) return std::unexpected(body.error());
          auto key = KeyField(*body);
          if (!key) return std::unexpected(key.error());
          auto status = StatusField(*body);
          if (!status) return std::unexpected(status.error());
          auto note = NoteField(*body);
          if (!note) return std::unexpected(note.error());
          auto referral = engine.Resolve(*key);
          if (!referral) return std::unexpected(referral.error());
          auto outcome = engine.ChangeStatus(referral->id, *status, ApiContext(request), *note);
          if (!outcome) return std::unexpected(outcome.error());
          return JsonOf(200, ToJson(*outcome));
        });

  // --- bulk files
  router_.Add(Route{Method::kPost, "/api/v1/imports", Scope::kWrite, BodyKind::kFile,
                    [this](Request& request, Respond respond) {
                      Upload(request, std::move(respond), false);
                    }});
  router_.Add(Route{Method::kPost, "/api/v1/qualifications", Scope::kWrite, BodyKind::kFile,
                    [this](Request& request, Respond respond) {
                      Upload(request, std::move(respond), true);
                    }});
  Read(Method::kGet, "/api/v1/imports/{id}/errors.csv", Scope::kRead,
       [](Engine& engine, const Request& request) -> Result<Response> {
         auto id = ParseId(request.params[0], "an import");
         if (!id) return std::unexpected(id.error());
         auto import = engine.ImportErrors(*id);
         if (!import) return std::unexpected(import.error());
         return CsvAttachment(RowErrorsCsv(import->errors),
                              fmt::format("import-{}-errors.csv", *id));
       });

  // --- rewards
  Read(Method::kGet, "/api/v1/rewards", Scope::kRead,
       [](Engine& engine, const Request& request) -> Result<Response> {
         auto query = RewardQueryOf(request);
         if (!query) return std::unexpected(query.error());
         auto rewards = engine.Rewards(*query);
         if (!rewards) return std::unexpected(rewards.error());
         json out = json::array();
         for (const Reward& reward : *rewards) out.push_back(ToJson(reward));
         return JsonOf(200, {{"rewards", std::move(out)}});
       });
  Read(Method::kGet, "/api/v1/rewards/export.csv", Scope::kRead,
       [](Engine& engine, const Request& request) -> Result<Response> {
         auto query = RewardQueryOf(request);
         if (!query) return std::unexpected(query.error());
         auto rewards = engine.Rewards(*query);
         if (!rewards) return std::unexpected(rewards.error());
         return CsvAttachment(PayoutCsv(*rewards), "payouts.csv");
       });
  Read(Method::kGet, "/api/v1/progress/{id}", Scope::kRead,
       [this](Engine&, const Request& request) -> Result<Response> {
         auto found = progress_.Find(CallerName(request), request.params[0]);
         UploadProgress progress = found.value_or(UploadProgress{});
         return JsonOf(200, {{"reading", found.has_value()},
                             {"bytes_read", progress.bytes_read},
                             {"bytes_total", progress.bytes_total}});
       });
  Read(Method::kGet, "/api/v1/stats", Scope::kRead,
       [](Engine& engine, const Request& request) -> Result<Response> {
         auto stats = engine.CountReferrals(request.Query("campaign"));
         if (!stats) return std::unexpected(stats.error());
         return JsonOf(200, ToJson(*stats));
       });

  // --- campaigns and their rules
  Read(Method::kGet, "/api/v1/campaigns", Scope::kRead,
       [](Engine& engine, const Request&) -> Result<Response> {
         auto campaigns = engine.Campaigns();
         if (!campaigns) return std::unexpected(campaigns.error());
         json out = json::array();
         for (const Campaign& c : *campaigns) out.push_back(ToJson(c));
         return JsonOf(200, {{"campaigns", std::move(out)}});
       });
  Write(Method::kPost, "/api/v1/campaigns", Scope::kAdmin,
        [](Engine& engine, const Request& request) -> Result<Response> {
          auto body = BodyObject(request.body);
          if (!body) return std::unexpected(body.error());
          auto name = StringField(*body, "name", true);
          if (!name) return std::unexpected(name.error());
          auto currency = StringField(*body, "currency", false);
          if (!currency) return std::unexpected(currency.error());
          auto campaign = engine.AddCampaign(*name, *currency);
          if (!campaign) return std::unexpected(campaign.error());
          return JsonOf(201, ToJson(*campaign));
        });
  Read(Method::kGet, "/api/v1/campaigns/{id}/reward-rules", Scope::kRead,
       [](Engine& engine, const Request& request) -> Result<Response> {
         auto campaign = CampaignParam(engine, request.params[0]);
         if (!campaign) return std::unexpected(campaign.error());
         auto rules = engine.RewardRules(campaign->name);
         if (!rules) return std::unexpected(rules.error());
         json out = json::array();
         for (const RewardRule& rule : *rules) out.push_back(ToJson(rule));
         return JsonOf(200, {{"reward_rules", std::move(out)}});
       });
  Write(Method::kPost, "/api/v1/campaigns/{id}/reward-rules", Scope::kAdmin,
        [](Engine& engine, const Request& request) -> Result<Response> {
          auto body = BodyObject(request.body);
          if (!body) return std::unexpected(body.error());
          auto campaign = CampaignParam(engine, request.params[0]);
          if (!campaign) return std::unexpected(campaign.error());
          auto input = RewardRuleBody(*body);
          if (!input) return std::unexpected(input.error());
          input->campaign = campaign->name;
          auto rule = engine.AddRewardRule(*input);
          if (!rule) return std::unexpected(rule.error());
          return JsonOf(201, ToJson(*rule));
        });
  Write(Method::kDelete, "/api/v1/reward-rules/{id}", Scope::kAdmin,
        [](Engine& engine, const Request& request) -> Result<Response> {
          auto id = ParseId(request.params[0], "a reward rule");
          if (!id) return std::unexpected(id.error());
          if (auto ok = engine.RemoveRewardRule(*id); !ok) return std::unexpected(ok.error());
          return NoContent();
        });

  // --- API keys
  Read(Method::kGet, "/api/v1/keys", Scope::kAdmin,
       [](Engine& engine, const Request&) -> Result<Response> {
         auto keys = engine.ApiKeys();
         if (!keys) return std::unexpected(keys.error());
         json out = json::array();
         for (const ApiKey& key : *keys) out.push_back(ToJson(key));
         return JsonOf(200, {{"keys", std::move(out)}});
       });
  Write(Method::kPost, "/api/v1/keys", Scope::kAdmin,
        [](Engine& engine, const Request& request) -> Result<Response> {
          auto body = BodyObject(request.body);
          if (!body) return std::unexpected(body.error());
          auto input = ApiKeyBody(*body);
          if (!input) return std::unexpected(input.error());
          auto made = engine.AddApiKey(input->name, input->scope);
          if (!made) return std::unexpected(made.error());
          return JsonOf(201, ToJson(*made));
        });
  Write(Method::kDelete, "/api/v1/keys/{id}", Scope::kAdmin,
        [](Engine& engine, const Request& request) -> Result<Response> {
          auto id = ParseId(request.params[0], "an API key");
          if (!id) return std::unexpected(id.error());
          if (auto ok = engine.RevokeApiKey(*id); !ok) return std::unexpected(ok.error());
          return NoContent();
        });
}

// The web page's sign-in. Checking a password takes about 0.1 s and 64 MiB (argon2id),
// so it runs on the small preview pool, never on the server's threads or the writer;
// only the new session goes through the write queue.
void Api::AddSessionRoutes() {
  router_.Add(Route{
      Method::kPost, "/api/v1/session", std::nullopt, BodyKind::kSmall,
      [this](Request& request, Respond respond) {
        auto body = BodyObject(request.body);
        if (!body) return respond(ProblemFor(body.error()));
        auto credentials = SignInBody(*body);
        if (!credentials) return respond(ProblemFor(credentials.error()));
        previews_->Post([this, credentials = std::move(*credentials),
                         respond = std::move(respond)]() mutable {
          auto lease = readers_.Acquire();
          if (!lease) return respond(ProblemFor(lease.error()));
          auto user = lease->engine().CheckPassword(credentials.email, credentials.password);
          if (!user) return respond(ProblemFor(user.error()));
          writer_->Submit(
              [user = std::move(*user)](Engine& engine) -> Result<Response> {
                auto made = engine.StartSession(user);
                if (!made) return std::unexpected(made.error());
                Response r = JsonOf(200, {{"email", made->session.email},
                                          {"csrf_token", made->session.csrf_token}});
                r.headers.emplace_back("Set-Cookie",
                                       SessionCookieFor(made->token, kSessionLifetime));
                return r;
              },
              std::move(respond));
        });
      }});
  Read(Method::kGet, "/api/v1/session", Scope::kRead,
       [](Engine&, const Request& request) -> Result<Response> {
         if (!request.user) return NotASession();
         return JsonOf(200, {{"email", request.user->email},
                             {"csrf_token", request.user->csrf_token}});
       });
  Write(Method::kDelete, "/api/v1/session", Scope::kRead,
        [](Engine& engine, const Request& request) -> Result<Response> {
          if (!request.user) return NotASession();
          if (auto ok = engine.SignOut(SessionCookie(request.cookie)); !ok) {
            return std::unexpected(ok.error());
          }
          Response r = NoContent();
          r.headers.emplace_back("Set-Cookie", ExpiredSessionCookie());
          return r;
        });
}

// An uploaded bulk file: the dry run reads it on the preview pool against a read
// connection; applying goes through the write queue alone (it is one transaction of
// its own, and other changes wait for it rather than fail).
void Api::Upload(Request& request, Respond respond, bool qualify) {
  std::string_view kind = qualify ? "qualify" : "import";
  auto dry_run = BoolParam(request, "dry_run", false);
  if (!dry_run) return respond(ProblemFor(dry_run.error()));
  QualifyRequest qualify_request;
  if (qualify) {
    const std::string& by = request.Query("by");
    auto parsed = ParseQualifyBy(by);
    if (!parsed) {
      return respond(Problem(400, fmt::format("by={}: use email, referral_code or coupon_code",
                                              by.empty() ? "(missing)" : by)));
    }
    qualify_request = QualifyRequest{*parsed, request.Query("campaign")};
  }
  std::string name = request.Query("filename");
  if (name.empty()) name = qualify ? "upload.csv" : "import.csv";
  // Followed by GET /api/v1/progress/{id} while it is read, when the client named it.
  std::string progress_id = request.Query("progress_id");
  if (!progress_id.empty() && !ProgressBoard::IsValidId(progress_id)) {
    return respond(Problem(400, fmt::format("progress_id={}: use 8 to 64 letters, digits, - or _",
                                            progress_id)));
  }
  std::string owner = CallerName(request);
  if (!progress_id.empty()) {
    std::error_code ec;
    progress_.Start(owner, progress_id, std::filesystem::file_size(request.body_file, ec));
  }
  ImportSource source{name, ApiContext(request).actor, nullptr};
  std::string path = request.body_file;
  // Runs the import or qualify upload on `engine`, and counts its outcome.
  auto run = [this, path, source, qualify, qualify_request, dry = *dry_run, kind, owner,
              progress_id](Engine& engine) mutable -> Response {
    struct Done {
      ProgressBoard& board;
      const std::string &owner, &id;
      ~Done() { if (!id.empty()) board.Finish(owner, id); }
    } done{progress_, owner, progress_id};
    ProgressFn progress = [this, &owner, &progress_id](uint64_t bytes) {
      if (!progress_id.empty()) progress_.Update(owner, progress_id, bytes);
    };
    std::optional<Error> unreadable;  // the file, opened again, could not be read
    // The report's text, rendered straight from it: a million errors are not first a
    // JSON tree (about 500 bytes an error). A write that the database refused for a
    // conflict changed nothing (one transaction), and the engine runs it again from
    // the file's start (Engine::RetryingWrites): on PostgreSQL it may be the victim of
    // a deadlock with single changes, whose group commits lock referrals in request
    // order while a bulk write locks them in id order.
    auto out = engine.RetryingWrites(
        [&]() -> Result<std::string> {
          auto file = BulkFile::Open(path);
          if (!file) {
            unreadable = file.error();
            return std::unexpected(file.error());
          }
          source.sha256 = [f = file->get()] { return f->sha256(); };
          if (qualify) {
            auto report =
                dry ? EstimateQualify(engine, (*file)->reader(), qualify_request, progress)
                    : ApplyQualify(engine, (*file)->reader(), qualify_request, source, progress);
            if (!report) return std::unexpected(report.error());
            return ToJson(*report).dump(-1, ' ', false, json::error_handler_t::replace);
          }
          auto report = dry ? PreviewImport(engine, (*file)->reader(), progress)
                            : ApplyImport(engine, (*file)->reader(), source, progress);
          if (!report) return std::unexpected(report.error());
          return JsonText(*report);
        },
        dry ? 1 : Engine::kWriteTries);
    if (unreadable) return ProblemFor(*unreadable);
    if (!out) {
      const Error& error = out.error();
      metrics_.CountBulk(kind, error.code == ErrorCode::kStorage ? "failed" : "refused");
      return ProblemFor(Error{
          error.code, fmt::format("{}: {}; nothing was changed", source.file_name, error.message)});
    }
    metrics_.CountBulk(kind, dry ? "preview" : "applied");
    return Json(200, std::move(*out));
  };
  if (*dry_run) {
    previews_->Post([this, run, respond = std::move(respond)]() mutable {
      auto lease = readers_.Acquire();
      if (!lease) return respond(ProblemFor(lease.error()));
      respond(run(lease->engine()));
    });
    return;
  }
  writer_->SubmitAlone(run, std::move(respond));
}

// Who is asking: an API key (Authorization: Bearer) or the web page's session cookie,
// whose writes must also carry the session's CSRF token. A GET keeps the read
// connection and snapshot it was checked in for its handler. Returns the refusal.
std::optional<Response> Api::Authorize(Request& request, const Route& route) {
  std::string_view auth = Trim(request.authorization);
  std::string token = request.authorization.empty() ? SessionCookie(request.cookie) : "";
  constexpr std::string_view kBearer = "bearer ";
  bool bearer =
      auth.size() > kBearer.size() && LowerAscii(auth.substr(0, kBearer.size())) == kBearer;
  if (!bearer && token.empty()) {
    Response r = Problem(401, "this route needs an API key (Authorization: Bearer KEY) or a "
                              "signed-in session");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
  }
  auto lease = readers_.Acquire();
  if (!lease) return ProblemFor(lease.error());
  auto session = std::make_shared<ReadSession>(std::move(*lease));
  if (request.method == Method::kGet) {
    auto snapshot = session->lease.engine().BeginRead();
    if (!snapshot) return ProblemFor(snapshot.error());
    session->snapshot.emplace(std::move(*snapshot));
  }
  if (bearer) {
    auto key = session->lease.engine().Authenticate(auth.substr(kBearer.size()));
    if (!key) {
      if (key.error().code == ErrorCode::kStorage) return ProblemFor(key.error());
      Response r = Problem(401, "unknown or revoked API key");
      r.headers.emplace_back("WWW-Authenticate", "Bearer error=\"invalid_token\"");
      return r;
    }
    if (!Allows(key->scope, *route.scope)) {
      return Problem(403, fmt::format("{} {} needs a key with scope {}; key \"{}\" has scope {}",
                                      MethodName(request.method), route.pattern,
                                      ScopeName(*route.scope), key->name,
                                      ScopeName(key->scope)));
    }
    request.caller = std::move(*key);
  } else {
    auto user = session->lease.engine().SessionFor(token);
    if (!user) {
      if (user.error().code == ErrorCode::kStorage) return ProblemFor(user.error());
      Response r = Problem(401, user.error().message);
      r.headers.emplace_back("Set-Cookie", ExpiredSessionCookie());
      return r;
    }
    // A signed-in person may do anything an admin key may; a change needs the token
    // only the page itself can read (a cross-site form cannot send this header).
    if (request.method != Method::kGet && !SameSecret(request.csrf_token, user->csrf_token)) {
      return Problem(403, request.csrf_token.empty()
                              ? "this change needs the X-CSRF-Token header of your session "
                                "(CSRF protection): reload the page"
                              : "the X-CSRF-Token header does not match your session (CSRF "
                                "protection): reload the page");
    }
    request.user = std::move(*user);
  }
  // A GET goes on reading in the same snapshot; other routes let the connection go.
  if (request.method == Method::kGet && route.body == BodyKind::kSmall) {
    request.state = std::move(session);
  }
  return std::nullopt;
}

Admission Api::Admit(Request& request) {
  Admission admission;
  auto match = router_.Find(request.method, request.path);
  if (!match.route) {
    if (match.status == 405) {
      Response r = Problem(405, fmt::format("{} does not take {}; it takes {}", request.path,
                                            MethodName(request.method), match.allow));
      r.headers.emplace_back("Allow", match.allow);
      admission.reject = std::move(r);
    } else if (options_.web && request.method == Method::kGet &&
               !request.path.starts_with("/api/")) {
      request.route = "/{page}";  // the web page's files: Handle serves them
      request.route_index = kPageRoute;
    } else {
      admission.reject = Problem(404, fmt::format("no route {}", request.path));
    }
    return admission;
  }
  const Route& route = *match.route;
  request.route = route.pattern;
  request.route_index = match.index;
  request.params = std::move(match.params);
  if (route.scope) {
    if (auto reject = Authorize(request, route)) {
      admission.reject = std::move(*reject);
      return admission;
    }
  }
  admission.body = route.body;
  if (route.body == BodyKind::kFile) {
    admission.limit = options_.max_upload_bytes;
    if (!IsCsvType(request.content_type)) {
      admission.reject = Problem(
          415, fmt::format("{} takes the file as the body: send Content-Type: text/csv{}",
                           route.pattern,
                           request.content_type.empty() ? "" : ", not " + request.content_type));
    }
  } else {
    admission.limit = options_.max_json_bytes;
    bool has_body = request.method == Method::kPost || request.method == Method::kPatch;
    if (has_body && !IsJsonType(request.content_type)) {
      admission.reject = Problem(
          415, fmt::format("{} takes a JSON body: send Content-Type: application/json{}",
                           route.pattern,
                           request.content_type.empty() ? "" : ", not " + request.content_type));
    }
  }
  return admission;
}

void Api::Handle(Request& request, Respond respond) {
  if (request.route_index == kPageRoute) return respond(options_.web->Serve(request.path));
  router_.routes()[request.route_index].handler(request, std::move(respond));
}

void Api::Completed(const Request& request, const Response& response, size_t bytes) {
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - request.received).count();
  metrics_.CountRequest(request.route, MethodName(request.method), response.status, seconds);
  if (options_.access_log == nullptr) return;
  // fmt rather than a JSON object: this runs for every request. Strings that come
  // from the client are quoted and escaped by the JSON library.
  std::string text = fmt::format(
      R"({{"ts":"{}","remote":{},"method":"{}","target":{},"route":"{}","status":{},)"
      R"("bytes":{},"ms":{:.3f},"key":{}}})"
      "\n",
      FormatTimestamp(NowMicros()), json(request.remote).dump(), MethodName(request.method),
      json(request.target).dump(-1, ' ', false, json::error_handler_t::replace), request.route,
      response.status, bytes, seconds * 1e3,
      request.caller ? std::to_string(request.caller->id) : "null");
  std::lock_guard lock(log_mutex_);
  std::fwrite(text.data(), 1, text.size(), options_.access_log);
}

}  // namespace reftrack::http
