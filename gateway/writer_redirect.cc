// RedirectToWriter (gateway/api.h): read replicas send write calls to the writer.
#include "gateway/api.h"
#include "gateway/responses.h"

namespace authledger {

HttpResponse RedirectToWriter(const ApiDeps& d, const RequestContext& ctx) {
  if (d.writer_url.empty())
    return ProblemFromStatus(ctx.req, Status::Unavailable("this node is a read replica and knows no writer "
                                                          "(server.writer_url); send writes to the writer node"));
  std::string target(ctx.req.target());
  std::string base = d.writer_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  auto res = Problem(ctx.req, http::status::temporary_redirect, "read-replica", "Read replica",
                     "this node is a read replica; repeat the request at the writer: " + base + RedactedPath(target));
  // 307 keeps the method and body. The Location carries the full target (a key id
  // is not a secret; query strings are kept as sent).
  res.set(http::field::location, base + target);
  return res;
}

}  // namespace authledger
