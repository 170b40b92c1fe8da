// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.

#include "registry.hpp"

#include <atomic>
#include <cstddef>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <pthread.h>

namespace zc {
namespace lockfile {
namespace detail {
namespace registry {

namespace {

struct id_hash {
    std::size_t operator()(const file_id& id) const noexcept
    {
        return std::hash<std::uint64_t>()(id.ino) ^ (std::hash<std::uint64_t>()(id.dev) << 1);
    }
};

struct entry {
    handle holder = invalid_handle;
    std::vector<handle> deferred;  // descriptors to close once the lock is released
};

struct table {
    std::mutex mutex;
    std::unordered_map<file_id, entry, id_hash> entries;
    std::atomic<std::size_t> count{0};
};

table& the_table()
{
    // Never destroyed: a lock may still be closed by another static's destructor at exit.
    static table* t = [] {
        auto* created = new table;
        // A fork() while another thread holds the mutex would leave the child's copy locked
        // for ever; taking it around fork keeps the child's copy consistent and unlocked.
        ::pthread_atfork([] { the_table().mutex.lock(); }, [] { the_table().mutex.unlock(); },
                         [] { the_table().mutex.unlock(); });
        return created;
    }();
    return *t;
}

} // namespace

bool reserve(const file_id& id, handle h, const std::function<void(handle)>& holder)
{
    table& t = the_table();
    std::lock_guard<std::mutex> guard(t.mutex);
    auto found = t.entries.find(id);
    if (found != t.entries.end()) {
        holder(found->second.holder);
        return false;
    }
    t.entries.emplace(id, entry{h, {}});
    t.count.store(t.entries.size(), std::memory_order_relaxed);
    return true;
}

void release(const file_id& id, handle h) noexcept
{
    table& t = the_table();
    // The closes happen under the mutex on purpose: until this entry is gone no other thread of
    // this process can lock the file, so none of these closes can drop a lock taken meanwhile.
    std::lock_guard<std::mutex> guard(t.mutex);
    auto found = t.entries.find(id);
    if (found != t.entries.end()) {
        for (handle d : found->second.deferred) close_handle(d);
        t.entries.erase(found);
        t.count.store(t.entries.size(), std::memory_order_relaxed);
    }
    close_handle(h);
}

void close_unless_held(const file_id& id, handle h) noexcept
{
    table& t = the_table();
    std::lock_guard<std::mutex> guard(t.mutex);
    auto found = t.entries.find(id);
    if (found == t.entries.end()) {
        close_handle(h);
        return;
    }
    try {
        found->second.deferred.push_back(h);
    } catch (...) {
        // Out of memory: leaking one descriptor is better than dropping a held lock.
    }
}

bool with_holder(const file_id& id, const std::function<void(handle)>& f)
{
    table& t = the_table();
    std::lock_guard<std::mutex> guard(t.mutex);
    auto found = t.entries.find(id);
    if (found == t.entries.end()) return false;
    f(found->second.holder);
    return true;
}

bool empty() noexcept { return the_table().count.load(std::memory_order_relaxed) == 0; }

std::size_t size() noexcept { return the_table().count.load(std::memory_order_relaxed); }

} // namespace registry
} // namespace detail
} // namespace lockfile
} // namespace zc
