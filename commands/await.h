// Await: the blocking form of an asynchronous command, for the CLI, background
// tasks and tests (the gateway never waits):
//
//   Result<IssuedKey> key = Await<IssuedKey>([&](auto done) { CreateKey(ctx, id, in, caller, actor, done); });
//
// `start` is called once with a Done<T>; Await returns what that is called with.
#pragma once

#include <future>
#include <utility>

#include "commands/command_context.h"

namespace authledger {

template <typename T, typename Start>
Result<T> Await(Start&& start) {
  std::promise<Result<T>> answer;
  std::future<Result<T>> future = answer.get_future();
  start(Done<T>([&answer](Result<T> r) { answer.set_value(std::move(r)); }));
  return future.get();
}

}  // namespace authledger
