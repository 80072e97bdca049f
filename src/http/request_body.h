// The JSON bodies of the HTTP API's requests: parsing and checking their fields, with
// a message that says what to send instead. Pure: no store, no request state.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "domain/status.h"
#include "engine/requests.h"
#include "util/result.h"

namespace reftrack::http {

// A path's id: a positive integer, or kNotFound naming `what` ("a referral").
Result<int64_t> ParseId(std::string_view text, std::string_view what);

// The request's body as a JSON object.
Result<nlohmann::json> BodyObject(std::string_view text);

// Field `name` of `object` as a string: "" when absent or null; an error when it is
// not a string.
Result<std::string> StringField(const nlohmann::json& object, std::string_view name,
                                bool required = false);

// Copies the string fields `fields` names from `object` into their targets; those in
// `required` must be there.
Result<void> CopyFields(const nlohmann::json& object,
                        std::span<const std::pair<const char*, std::string*>> fields,
                        std::initializer_list<std::string_view> required);

// The required "status".
Result<Status> StatusField(const nlohmann::json& object);

// The note, when the body has one.
Result<std::optional<std::string>> NoteField(const nlohmann::json& object);

// The referral a body's "key" names: {"id": 7}, {"external_id": "X"[, "campaign": "C"]}
// or {"email": "e", "campaign": "C"}.
Result<ReferralKey> KeyField(const nlohmann::json& body);

// The bodies of POST /api/v1/referrals, of POST /api/v1/campaigns/{id}/reward-rules
// (its campaign comes from the path: left empty here) and of POST /api/v1/session.
Result<ReferralInput> ReferralBody(const nlohmann::json& body);
Result<RewardRuleInput> RewardRuleBody(const nlohmann::json& body);
struct ApiKeyInput {
  std::string name;
  std::string scope;
};
// The body of POST /api/v1/keys.
Result<ApiKeyInput> ApiKeyBody(const nlohmann::json& body);
struct Credentials {
  std::string email;
  std::string password;
};
Result<Credentials> SignInBody(const nlohmann::json& body);

}  // namespace reftrack::http
