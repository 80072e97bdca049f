// reftrack_datagen: deterministic synthetic data for the benchmarks (bench/run.sh).
//
//   reftrack_datagen referrals --rows N [--campaigns 3] [--members M] [--seed S] --out DIR
//   reftrack_datagen updates --rows N [--seed S] --out DIR
//   reftrack_datagen qualify-list --rows N [--referrals R] [--campaigns 3] [--campaign-index K]
//                                 [--seed S] --out DIR
//
// writes DIR/members.csv and DIR/referrals.csv, DIR/updates.csv, or DIR/qualify.csv. The same
// arguments always give the
// same bytes: every random choice is a pure function of (seed, row) through
// splitmix64, with no global state and no std::random_device.
//
// Each kind of data is a mode named by argv[1]; a new benchmark adds its mode to
// kModes below (e.g. "updates", "qualify-list"), reusing Args, Hash and CsvWriter.
#include <fmt/compile.h>
#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

constexpr uint64_t kDefaultSeed = 0x5eed'2024'be0c'4a11ULL;

// ---------------------------------------------------------------------------
// Randomness: splitmix64's finalizer, used as a counter-based hash.

constexpr uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// The random word number `stream` of row `row`: independent words per row without
// carrying generator state from row to row.
constexpr uint64_t Hash(uint64_t seed, uint64_t row, uint64_t stream) {
  return SplitMix64(SplitMix64(seed ^ (stream * 0xd6e8feb86659fd93ULL)) + row);
}

// A bijection of [0, 2^bits): every step (odd multiply, xor-shift, add, all mod 2^bits)
// is invertible, so distinct rows get distinct numbers, in an order unrelated to theirs.
class Scramble {
 public:
  Scramble(uint64_t count, uint64_t seed) {
    while (bits_ < 63 && (uint64_t{1} << bits_) < count) ++bits_;
    if (bits_ < 8) bits_ = 8;
    mask_ = (uint64_t{1} << bits_) - 1;
    for (int r = 0; r < kRounds; ++r) {
      mul_[r] = (SplitMix64(seed + 2 * r) | 1) & mask_;
      add_[r] = SplitMix64(seed + 2 * r + 1) & mask_;
    }
  }
  uint64_t operator()(uint64_t x) const {
    for (int r = 0; r < kRounds; ++r) {
      x = (x * mul_[r]) & mask_;
      x ^= x >> (bits_ / 2 + 1);
      x = (x + add_[r]) & mask_;
    }
    return x;
  }

 private:
  static constexpr int kRounds = 3;
  int bits_ = 0;
  uint64_t mask_ = 0;
  std::array<uint64_t, kRounds> mul_{};
  std::array<uint64_t, kRounds> add_{};
};

// ---------------------------------------------------------------------------
// Output: rows are formatted into one buffer, written out in large blocks.

class CsvWriter {
 public:
  explicit CsvWriter(const std::filesystem::path& path) : path_(path) {
    file_ = std::fopen(path.c_str(), "wb");
    if (file_ == nullptr) {
      throw std::runtime_error(
          fmt::format("cannot create {}: {}", path.string(), std::strerror(errno)));
    }
    buf_.reserve(kFlushAt + 4096);
  }
  ~CsvWriter() {
    if (file_ != nullptr) std::fclose(file_);
  }
  CsvWriter(const CsvWriter&) = delete;
  CsvWriter& operator=(const CsvWriter&) = delete;

  fmt::memory_buffer& buf() { return buf_; }
  fmt::appender out() { return fmt::appender(buf_); }

  // Call after each row.
  void RowDone() {
    if (buf_.size() >= kFlushAt) Flush();
  }

  uint64_t Close() {
    Flush();
    if (std::fclose(file_) != 0) {
      file_ = nullptr;
      throw std::runtime_error(
          fmt::format("cannot write {}: {}", path_.string(), std::strerror(errno)));
    }
    file_ = nullptr;
    return bytes_;
  }

 private:
  static constexpr size_t kFlushAt = 4 << 20;

  void Flush() {
    if (buf_.size() == 0) return;
    if (std::fwrite(buf_.data(), 1, buf_.size(), file_) != buf_.size()) {
      throw std::runtime_error(
          fmt::format("cannot write {}: {}", path_.string(), std::strerror(errno)));
    }
    bytes_ += buf_.size();
    buf_.clear();
  }

  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  fmt::memory_buffer buf_;
  uint64_t bytes_ = 0;
};

// ---------------------------------------------------------------------------
// Arguments: `--name value` pairs after the mode word.

class Args {
 public:
  // `known` maps each accepted option to its default ("" = required).
  Args(int argc, char** argv, std::map<std::string, std::optional<std::string>> known)
      : values_(std::move(known)) {
    for (int i = 0; i < argc; ++i) {
      std::string_view a = argv[i];
      if (a == "-h" || a == "--help") throw UsageError{""};
      if (!a.starts_with("--")) throw UsageError{fmt::format("unexpected argument \"{}\"", a)};
      std::string name(a.substr(2));
      std::string value;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name.resize(eq);
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        throw UsageError{fmt::format("--{} needs a value", name)};
      }
      auto it = values_.find(name);
      if (it == values_.end()) throw UsageError{fmt::format("unknown option --{}", name)};
      it->second = value;
    }
    for (const auto& [name, value] : values_) {
      if (!value) throw UsageError{fmt::format("--{} is required", name)};
    }
  }

  std::string Str(const std::string& name) const { return *values_.at(name); }

  uint64_t U64(const std::string& name, uint64_t min, uint64_t max) const {
    std::string text = Str(name);
    uint64_t v = 0;
    int base = 10;
    std::string_view digits = text;
    if (digits.starts_with("0x")) {
      base = 16;
      digits.remove_prefix(2);
    }
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
    if (ec != std::errc() || end != digits.data() + digits.size() || v < min || v > max) {
      throw UsageError{
          fmt::format("--{} must be a whole number from {} to {}, not \"{}\"", name, min, max, text)};
    }
    return v;
  }

  struct UsageError {
    std::string message;
  };

 private:
  std::map<std::string, std::optional<std::string>> values_;
};

// ---------------------------------------------------------------------------
// Vocabulary.

constexpr std::array<std::string_view, 64> kFirst = {
    "Ada",     "Alan",    "Alice",  "Amara",   "Anna",   "Arjun",   "Bea",     "Ben",
    "Carla",   "Chen",    "Chloe",  "Dara",    "David",  "Diego",   "Elena",   "Emil",
    "Erin",    "Farah",   "Felix",  "Grace",   "Hana",   "Hugo",    "Ines",    "Ivan",
    "Jade",    "James",   "Jonas",  "Julia",   "Kai",    "Kenji",   "Lara",    "Leo",
    "Lina",    "Luca",    "Maya",   "Mateo",   "Mia",    "Nadia",   "Noah",    "Nora",
    "Omar",    "Olga",    "Pablo",  "Priya",   "Quinn",  "Rafael",  "Rosa",    "Sam",
    "Sara",    "Sofia",   "Tariq",  "Tess",    "Uma",    "Victor",  "Vera",    "Wen",
    "Xavier",  "Yara",    "Yusuf",  "Zoe",     "Zaid",   "Ingrid",  "Oscar",   "Lucia"};

constexpr std::array<std::string_view, 64> kLast = {
    "Adams",   "Alvarez", "Bauer",   "Becker",  "Brown",   "Campbell", "Chen",    "Costa",
    "Das",     "Dubois",  "Evans",   "Fischer", "Garcia",  "Gomez",    "Gupta",   "Hansen",
    "Hughes",  "Ito",     "Jensen",  "Jones",   "Kaur",    "Khan",     "Kim",     "Klein",
    "Kowalski","Lee",     "Lopez",   "Martin",  "Meyer",   "Moreau",   "Muller",  "Murphy",
    "Nagy",    "Nguyen",  "Novak",   "Okafor",  "Olsen",   "Park",     "Patel",   "Perez",
    "Popescu", "Quinn",   "Reyes",   "Rossi",   "Santos",  "Sato",     "Schmidt", "Silva",
    "Singh",   "Smith",   "Sousa",   "Suzuki",  "Tanaka",  "Taylor",   "Torres",  "Tran",
    "Varga",   "Wagner",  "Walker",  "Wang",    "Weber",   "Wilson",   "Yilmaz",  "Zhang"};

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
char Upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

// Campaign c (0-based) is named "Campaign <c+1>".
void AppendCampaign(fmt::memory_buffer& b, uint64_t c) {
  fmt::format_to(fmt::appender(b), FMT_COMPILE("Campaign {}"), c + 1);
}

// Member j: campaign j % campaigns, member000123@advocates.example, code M000123.
void AppendMemberEmail(fmt::memory_buffer& b, uint64_t j) {
  fmt::format_to(fmt::appender(b), FMT_COMPILE("member{:06}@advocates.example"), j);
}

// ---------------------------------------------------------------------------
// Mode "referrals".

constexpr std::string_view kMembersHeader = "campaign,email,name,referral_code\n";
constexpr std::string_view kReferralsHeader =
    "campaign,email,name,external_id,referral_code,coupon_code,referrer_email\n";

// Per-row choices, in percent.
constexpr uint64_t kReferrerPercent = 80;  // rows naming a referrer
constexpr uint64_t kMessyPercent = 5;      // rows whose emails need normalizing
constexpr uint64_t kQuotedNamePercent = 1;  // rows whose name is quoted ("Last, First")

enum Stream : uint64_t { kCampaignShuffle, kNames, kReferrer, kMessy, kQuoted, kCase };

// The numbers in the referrals' emails: a scramble of the row over all `rows` rows.
Scramble ReferralScramble(uint64_t rows, uint64_t seed) { return Scramble(rows, SplitMix64(seed)); }

constexpr size_t kEmailMax = 128;

// The email of referral row i as reftrack stores it (trimmed, lower-cased):
// first.last<scramble(i)>@example.com, the names drawn from the row's kNames word.
// Writes it to `out` (kEmailMax bytes) and returns its length. The "qualify-list"
// mode relies on this being all there is to a referral's email.
size_t ReferralEmail(char* out, uint64_t seed, const Scramble& scramble, uint64_t i) {
  const uint64_t names = Hash(seed, i, kNames);
  size_t len = 0;
  for (char ch : kFirst[names & 63]) out[len++] = Lower(ch);
  out[len++] = '.';
  for (char ch : kLast[(names >> 6) & 63]) out[len++] = Lower(ch);
  return static_cast<size_t>(fmt::format_to(out + len, FMT_COMPILE("{}@example.com"), scramble(i)) -
                             out);
}

int RunReferrals(int argc, char** argv) {
  Args args(argc, argv,
            {{"rows", std::nullopt},
             {"campaigns", "3"},
             {"members", "1000"},
             {"seed", fmt::format("{:#x}", kDefaultSeed)},
             {"out", std::nullopt}});
  const uint64_t rows = args.U64("rows", 0, uint64_t{1} << 40);
  const uint64_t campaigns = args.U64("campaigns", 1, 1'000'000);
  const uint64_t members = args.U64("members", 0, uint64_t{1} << 40);
  const uint64_t seed = args.U64("seed", 0, UINT64_MAX);
  const std::filesystem::path dir = args.Str("out");
  std::filesystem::create_directories(dir);

  // members.csv: member j belongs to campaign j % campaigns.
  CsvWriter m(dir / "members.csv");
  m.buf().append(kMembersHeader);
  for (uint64_t j = 0; j < members; ++j) {
    auto& b = m.buf();
    AppendCampaign(b, j % campaigns);
    b.push_back(',');
    AppendMemberEmail(b, j);
    fmt::format_to(m.out(), FMT_COMPILE(",Member {},M{:06}\n"), j, j);
    m.RowDone();
  }
  const uint64_t member_bytes = m.Close();

  // referrals.csv: row i belongs to campaign i % campaigns; its email number is a
  // scramble of i, so emails are unique but arrive in no particular index order.
  const Scramble scramble = ReferralScramble(rows, seed);
  CsvWriter w(dir / "referrals.csv");
  w.buf().append(kReferralsHeader);
  char email[kEmailMax];
  for (uint64_t i = 0; i < rows; ++i) {
    auto& b = w.buf();
    const uint64_t n = i + 1;
    const uint64_t c = i % campaigns;
    const uint64_t names = Hash(seed, i, kNames);
    const std::string_view first = kFirst[names & 63];
    const std::string_view last = kLast[(names >> 6) & 63];
    const bool messy = Hash(seed, i, kMessy) % 100 < kMessyPercent;

    AppendCampaign(b, c);
    b.push_back(',');

    // email: first.last<scrambled>@example.com; messy rows get mixed case and spaces.
    {
      const size_t len = ReferralEmail(email, seed, scramble, i);
      if (messy) {
        const uint64_t bits = Hash(seed, i, kCase);
        for (size_t k = 0; k < len; ++k) {
          if ((bits >> (k % 64)) & 1) email[k] = Upper(email[k]);
        }
        b.append(std::string_view(bits & (uint64_t{1} << 62) ? " " : "  "));
        b.append(std::string_view(email, len));
        b.append(std::string_view(bits & (uint64_t{1} << 63) ? " " : "  "));
      } else {
        b.append(std::string_view(email, len));
      }
    }
    b.push_back(',');

    // name: "First Last", or quoted "Last, First" in a few rows.
    if (Hash(seed, i, kQuoted) % 100 < kQuotedNamePercent) {
      fmt::format_to(w.out(), FMT_COMPILE("\"{}, {}\""), last, first);
    } else {
      fmt::format_to(w.out(), FMT_COMPILE("{} {}"), first, last);
    }

    fmt::format_to(w.out(), FMT_COMPILE(",crm-{},R{},C{},"), n, n, n);

    // referrer: one of the campaign's members, in most rows.
    const uint64_t in_campaign = members > c ? (members - c + campaigns - 1) / campaigns : 0;
    const uint64_t pick = Hash(seed, i, kReferrer);
    if (in_campaign > 0 && pick % 100 < kReferrerPercent) {
      const uint64_t j = c + ((pick >> 8) % in_campaign) * campaigns;
      if (messy && (pick & (uint64_t{1} << 7))) {
        fmt::format_to(w.out(), FMT_COMPILE(" MEMBER{:06}@Advocates.Example"), j);
      } else {
        AppendMemberEmail(b, j);
      }
    }
    b.push_back('\n');
    w.RowDone();
  }
  const uint64_t referral_bytes = w.Close();

  fmt::print(stderr, "datagen: {} members ({:.1f} MB), {} referrals ({:.1f} MB) in {}\n", members,
             member_bytes / 1e6, rows, referral_bytes / 1e6, dir.string());
  return 0;
}

// ---------------------------------------------------------------------------
// Mode "updates": a bulk status update file for the N referrals of "referrals".

constexpr std::string_view kUpdatesHeader = "referralkey_externalid,status\n";

enum UpdateStream : uint64_t { kUpdateOrder = 100, kUpdateStatus };

int RunUpdates(int argc, char** argv) {
  Args args(argc, argv,
            {{"rows", std::nullopt}, {"seed", fmt::format("{:#x}", kDefaultSeed)}, {"out", std::nullopt}});
  const uint64_t rows = args.U64("rows", 1, uint64_t{1} << 40);
  const uint64_t seed = args.U64("seed", 0, UINT64_MAX);
  const std::filesystem::path dir = args.Str("out");
  std::filesystem::create_directories(dir);

  // Every referral once (external id crm-1..crm-N), in an order unrelated to the
  // table's: the scramble walks its cycle until it lands inside [0, N).
  const Scramble order(rows, SplitMix64(seed ^ kUpdateOrder));
  CsvWriter w(dir / "updates.csv");
  w.buf().append(kUpdatesHeader);
  for (uint64_t i = 0; i < rows; ++i) {
    uint64_t k = order(i);
    while (k >= rows) k = order(k);
    // 40% qualified, 30% approved, 20% denied, 10% pending (unchanged from new).
    const uint64_t p = Hash(seed, i, kUpdateStatus) % 100;
    const std::string_view status = p < 40 ? "qualified" : p < 70 ? "approved" : p < 90 ? "denied" : "pending";
    fmt::format_to(w.out(), FMT_COMPILE("crm-{},{}\n"), k + 1, status);
    w.RowDone();
  }
  const uint64_t bytes = w.Close();
  fmt::print(stderr, "datagen: {} updates ({:.1f} MB) in {}\n", rows, bytes / 1e6, dir.string());
  return 0;
}

// ---------------------------------------------------------------------------
// Mode "qualify-list": a headerless list of converted customers for `reftrack qualify
// --by email`, against the referrals of "referrals" with the same seed, R rows and C
// campaigns. Known lines name a referral of campaign K (0-based: "Campaign K+1"),
// rebuilding its email with ReferralEmail; unknown lines name nobody (@example.org,
// a domain no referral has). Every line is a well-formed email in random mixed case,
// some with spaces around it, so only a trimmed, case-insensitive match finds them.

// Per-line choices, in percent.
constexpr uint64_t kKnownPercent = 70;   // lines naming a referral of the campaign
constexpr uint64_t kRepeatPercent = 3;   // known lines naming a referral drawn at random,
                                         // so some referrals are listed twice
constexpr uint64_t kSpacedPercent = 10;  // lines with spaces around the email

enum QualifyStream : uint64_t {
  kQualifyOrder = 200,
  kQualifyKnown,
  kQualifyRepeat,
  kQualifyCase,
  kQualifySpaced,
  kQualifyNames,
};

int RunQualifyList(int argc, char** argv) {
  Args args(argc, argv,
            {{"rows", std::nullopt},
             {"referrals", ""},
             {"campaigns", "3"},
             {"campaign-index", "0"},
             {"seed", fmt::format("{:#x}", kDefaultSeed)},
             {"out", std::nullopt}});
  const uint64_t rows = args.U64("rows", 1, uint64_t{1} << 40);
  const uint64_t referrals =
      args.Str("referrals").empty() ? rows : args.U64("referrals", 1, uint64_t{1} << 40);
  const uint64_t campaigns = args.U64("campaigns", 1, 1'000'000);
  const uint64_t k = args.U64("campaign-index", 0, campaigns - 1);
  const uint64_t seed = args.U64("seed", 0, UINT64_MAX);
  const std::filesystem::path dir = args.Str("out");
  // Referral rows k, k + C, k + 2C, ... below R belong to campaign k.
  const uint64_t in_campaign = referrals > k ? (referrals - k + campaigns - 1) / campaigns : 0;
  if (in_campaign == 0) {
    throw Args::UsageError{fmt::format("--referrals {} leaves Campaign {} without referrals",
                                       referrals, k + 1)};
  }
  std::filesystem::create_directories(dir);

  // Line j's number: a permutation of [0, N) (the scramble walks its cycle until it
  // lands inside), so known lines name distinct referrals as long as N <= the
  // campaign's referrals, and unknown emails are distinct.
  const Scramble order(rows, SplitMix64(seed ^ kQualifyOrder));
  const Scramble scramble = ReferralScramble(referrals, seed);
  CsvWriter w(dir / "qualify.csv");
  char email[kEmailMax];
  uint64_t known = 0;
  for (uint64_t j = 0; j < rows; ++j) {
    uint64_t n = order(j);
    while (n >= rows) n = order(n);
    size_t len = 0;
    if (Hash(seed, j, kQualifyKnown) % 100 < kKnownPercent) {
      const uint64_t repeat = Hash(seed, j, kQualifyRepeat);
      const uint64_t m = repeat % 100 < kRepeatPercent ? (repeat >> 8) % in_campaign : n % in_campaign;
      len = ReferralEmail(email, seed, scramble, k + m * campaigns);
      ++known;
    } else {
      const uint64_t names = Hash(seed, j, kQualifyNames);
      for (char ch : kFirst[names & 63]) email[len++] = Lower(ch);
      email[len++] = '.';
      for (char ch : kLast[(names >> 6) & 63]) email[len++] = Lower(ch);
      len = static_cast<size_t>(fmt::format_to(email + len, FMT_COMPILE("{}@example.org"), n) - email);
    }
    const uint64_t bits = Hash(seed, j, kQualifyCase);
    for (size_t c = 0; c < len; ++c) {
      if ((bits >> (c % 64)) & 1) email[c] = Upper(email[c]);
    }
    auto& b = w.buf();
    const uint64_t spaced = Hash(seed, j, kQualifySpaced);
    if (spaced % 100 < kSpacedPercent) {
      b.append(std::string_view(spaced & (uint64_t{1} << 62) ? " " : "  "));
      b.append(std::string_view(email, len));
      b.append(std::string_view(spaced & (uint64_t{1} << 63) ? " " : "  "));
    } else {
      b.append(std::string_view(email, len));
    }
    b.push_back('\n');
    w.RowDone();
  }
  const uint64_t bytes = w.Close();
  fmt::print(stderr,
             "datagen: {} lines ({:.1f} MB), {} naming referrals of Campaign {} ({} referrals of {}), "
             "{} unknown, in {}\n",
             rows, bytes / 1e6, known, k + 1, in_campaign, referrals, rows - known, dir.string());
  return 0;
}

// ---------------------------------------------------------------------------

struct Mode {
  std::string_view name;
  std::string_view usage;
  int (*run)(int argc, char** argv);
};

constexpr Mode kModes[] = {
    {"referrals",
     "referrals --rows N [--campaigns 3] [--members 1000] [--seed S] --out DIR\n"
     "      DIR/members.csv: M members spread over \"Campaign 1\"..\"Campaign C\"\n"
     "      DIR/referrals.csv: N referrals for `reftrack referral load`",
     &RunReferrals},
    {"updates",
     "updates --rows N [--seed S] --out DIR\n"
     "      DIR/updates.csv: a status for each of the N referrals, for `reftrack import`",
     &RunUpdates},
    {"qualify-list",
     "qualify-list --rows N [--referrals R] [--campaigns 3] [--campaign-index K] [--seed S] --out DIR\n"
     "      DIR/qualify.csv: N headerless lines for `reftrack qualify --by email`, 70% emails of\n"
     "      \"Campaign K+1\" (K from 0, default 0) among the R referrals (default N) that\n"
     "      `referrals --rows R --campaigns C` makes with the same seed, 30% unknown; mixed case,\n"
     "      some with spaces around, a few referrals listed twice",
     &RunQualifyList},
};

void PrintUsage(std::FILE* to) {
  fmt::print(to, "usage: reftrack_datagen MODE [options]\nmodes:\n");
  for (const Mode& m : kModes) fmt::print(to, "  {}\n", m.usage);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string_view(argv[1]) == "-h" || std::string_view(argv[1]) == "--help") {
    PrintUsage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string_view name = argv[1];
  for (const Mode& m : kModes) {
    if (m.name != name) continue;
    try {
      return m.run(argc - 2, argv + 2);
    } catch (const Args::UsageError& e) {
      if (e.message.empty()) {
        fmt::print("usage: reftrack_datagen {}\n", m.usage);
        return 0;
      }
      fmt::print(stderr, "reftrack_datagen {}: {}\nusage: reftrack_datagen {}\n", name, e.message,
                 m.usage);
      return 2;
    } catch (const std::exception& e) {
      fmt::print(stderr, "reftrack_datagen {}: {}\n", name, e.what());
      return 1;
    }
  }
  fmt::print(stderr, "reftrack_datagen: unknown mode \"{}\"\n", name);
  PrintUsage(stderr);
  return 2;
}
