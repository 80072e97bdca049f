#include "http/request_body.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "domain/normalize.h"

namespace reftrack::http {

using nlohmann::json;

Result<int64_t> ParseId(std::string_view text, std::string_view what) {
  int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) {
    return Fail(ErrorCode::kNotFound, fmt::format("\"{}\" is not {} id", text, what));
  }
  return id;
}

Result<json> BodyObject(std::string_view text) {
  json body = json::parse(text, nullptr, false);
  if (body.is_discarded()) {
    return Fail(ErrorCode::kInvalidInput, "the body is not valid JSON");
  }
  if (!body.is_object()) return Fail(ErrorCode::kInvalidInput, "the body must be a JSON object");
  return body;
}

Result<std::string> StringField(const json& object, std::string_view name, bool required) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) {
    if (required) return Fail(ErrorCode::kInvalidInput, fmt::format("\"{}\" is required", name));
    return std::string();
  }
  if (!it->is_string()) {
    return Fail(ErrorCode::kInvalidInput, fmt::format("\"{}\" must be a string", name));
  }
  return it->get<std::string>();
}

Result<void> CopyFields(const json& object,
                        std::span<const std::pair<const char*, std::string*>> fields,
                        std::initializer_list<std::string_view> required) {
  for (auto [name, target] : fields) {
    bool needed = std::ranges::find(required, std::string_view(name)) != required.end();
    auto value = StringField(object, name, needed);
    if (!value) return std::unexpected(value.error());
    *target = std::move(*value);
  }
  return {};
}

Result<Status> StatusField(const json& object) {
  auto text = StringField(object, "status", true);
  if (!text) return std::unexpected(text.error());
  auto status = ParseStatus(*text);
  if (!status) {
    return Fail(ErrorCode::kInvalidInput,
                fmt::format("\"{}\" is not a status: use pending, qualified, approved or denied",
                            *text));
  }
  return *status;
}

Result<std::optional<std::string>> NoteField(const json& object) {
  if (!object.contains("note") || object["note"].is_null()) return std::optional<std::string>();
  auto note = StringField(object, "note");
  if (!note) return std::unexpected(note.error());
  return std::optional<std::string>(std::move(*note));
}

Result<ReferralKey> KeyField(const json& body) {
  auto it = body.find("key");
  if (it == body.end() || !it->is_object()) {
    return Fail(ErrorCode::kInvalidInput,
                "\"key\" is required: {\"id\": 7}, {\"external_id\": \"X\"} or "
                "{\"email\": \"e\", \"campaign\": \"C\"}");
  }
  const json& key = *it;
  ReferralKey out;
  auto campaign = StringField(key, "campaign");
  if (!campaign) return std::unexpected(campaign.error());
  out.campaign = *campaign;
  int forms = key.contains("id") + key.contains("external_id") + key.contains("email");
  if (forms != 1) {
    return Fail(ErrorCode::kInvalidInput,
                "\"key\" must have exactly one of \"id\", \"external_id\" and \"email\"");
  }
  if (key.contains("id")) {
    const json& id = key["id"];
    if (id.is_number_integer() && id.get<int64_t>() > 0) {
      out.kind = ReferralKey::Kind::kId;
      out.id = id.get<int64_t>();
      return out;
    }
    if (id.is_string()) {
      auto parsed = ParseId(id.get<std::string>(), "a referral");
      if (!parsed) return Fail(ErrorCode::kInvalidInput, parsed.error().message);
      out.kind = ReferralKey::Kind::kId;
      out.id = *parsed;
      return out;
    }
    return Fail(ErrorCode::kInvalidInput, "\"key.id\" must be a positive integer");
  }
  bool external = key.contains("external_id");
  auto value = StringField(key, external ? "external_id" : "email", true);
  if (!value) return Fail(ErrorCode::kInvalidInput, "key." + value.error().message);
  out.kind = external ? ReferralKey::Kind::kExternalId : ReferralKey::Kind::kEmail;
  out.value = *value;
  if (!external && Trim(out.campaign).empty()) {
    return Fail(ErrorCode::kInvalidInput,
                "a key by email needs \"campaign\": one email may be referred in several");
  }
  return out;
}

Result<ReferralInput> ReferralBody(const json& body) {
  ReferralInput input;
  std::pair<const char*, std::string*> fields[] = {{"campaign", &input.campaign},
                                                   {"email", &input.email},
                                                   {"name", &input.name},
                                                   {"external_id", &input.external_id},
                                                   {"referral_code", &input.referral_code},
                                                   {"coupon_code", &input.coupon_code},
                                                   {"referrer_email", &input.referrer_email}};
  if (auto ok = CopyFields(body, fields, {"campaign", "email"}); !ok) {
    return std::unexpected(ok.error());
  }
  return input;
}

Result<RewardRuleInput> RewardRuleBody(const json& body) {
  RewardRuleInput input;
  std::pair<const char*, std::string*> fields[] = {{"on", &input.on},
                                                   {"to", &input.to},
                                                   {"amount", &input.amount},
                                                   {"currency", &input.currency},
                                                   {"description", &input.description}};
  if (auto ok = CopyFields(body, fields, {"on", "to"}); !ok) return std::unexpected(ok.error());
  return input;
}

Result<ApiKeyInput> ApiKeyBody(const json& body) {
  auto name = StringField(body, "name", false);  // empty: the engine names it key-N
  if (!name) return std::unexpected(name.error());
  auto scope = StringField(body, "scope", true);
  if (!scope) return std::unexpected(scope.error());
  return ApiKeyInput{std::move(*name), std::move(*scope)};
}

Result<Credentials> SignInBody(const json& body) {
  Credentials credentials;
  std::pair<const char*, std::string*> fields[] = {{"email", &credentials.email},
                                                   {"password", &credentials.password}};
  if (auto ok = CopyFields(body, fields, {"email", "password"}); !ok) {
    return std::unexpected(ok.error());
  }
  return credentials;
}

}  // namespace reftrack::http
