#include "gloo_errors.h"

#include <gloo/common/error.h>
#include <gloo/common/logging.h>

#include <algorithm>
#include <cctype>
#include <string>

namespace tensorwire_gloo {
namespace {

bool Mentions(std::string haystack, const char* needle) {
  std::transform(haystack.begin(), haystack.end(), haystack.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return haystack.find(needle) != std::string::npos;
}

// Gloo reports timeouts as IoException; its message is the only way to tell them apart.
// "Application timeout caused pair closure" is what the *other* pending operations see when one
// operation timed out, so it counts as a timeout as well.
const char* IoCode(const std::string& message) {
  return Mentions(message, "timed out") || Mentions(message, "timeout") ? "GLOO_TIMEOUT" : "GLOO_IO";
}

}  // namespace

tensorwire::ErrorInfo CaptureGlooError(const std::exception_ptr& ep) {
  tensorwire::ErrorInfo info;
  try {
    std::rethrow_exception(ep);
  } catch (const tensorwire::CodedError& e) {
    info = {e.code(), e.what()};
  } catch (const gloo::IoException& e) {
    info = {IoCode(e.what()), e.what()};
  } catch (const gloo::EnforceNotMet& e) {
    info = {"GLOO_ENFORCE", e.what()};
  } catch (const gloo::Exception& e) {
    info = {"GLOO_ERROR", e.what()};
  } catch (const std::exception& e) {
    info = {"GLOO_ERROR", e.what()};
  } catch (...) {
    info = {"GLOO_ERROR", "unknown exception from Gloo"};
  }
  return info;
}

}  // namespace tensorwire_gloo
