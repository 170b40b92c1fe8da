// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.

#include "registry.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <unordered_map>
#include <vector>

#if !defined(_WIN32)
#include <pthread.h>
#endif

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
    bool shared = false;
    std::vector<handle> holders;   // exclusive: exactly one
    std::vector<handle> deferred;  // to close once the last holder has released
};

struct table {
    std::mutex mutex;
    std::condition_variable released;
    std::unordered_map<file_id, entry, id_hash> entries;
    std::atomic<std::size_t> count{0};
};

table& the_table()
{
    // Never destroyed: a lock may still be closed by another static's destructor at exit.
    static table* t = [] {
        auto* created = new table;
#if !defined(_WIN32)
        // A fork() while another thread holds the mutex would leave the child's copy locked
        // for ever; taking it around fork keeps the child's copy consistent and unlocked.
        ::pthread_atfork([] { the_table().mutex.lock(); }, [] { the_table().mutex.unlock(); },
                         [] { the_table().mutex.unlock(); });
#endif
        return created;
    }();
    return *t;
}

// The entry that a request of this mode conflicts with, or nullptr.
entry* conflicting(table& t, const file_id& id, bool shared)
{
    auto found = t.entries.find(id);
    if (found == t.entries.end()) return nullptr;
    if (shared && found->second.shared) return nullptr;
    return &found->second;
}

void defer(entry& e, handle h) noexcept
{
    try {
        e.deferred.push_back(h);
    } catch (...) {
        // Out of memory: leaking one descriptor is better than dropping a held lock.
    }
}

} // namespace

bool reserve(const file_id& id, handle h, bool shared, const std::function<void(handle)>& holder)
{
    table& t = the_table();
    std::lock_guard<std::mutex> guard(t.mutex);
    if (entry* e = conflicting(t, id, shared)) {
        holder(e->holders.front());
        return false;
    }
    entry& e = t.entries[id];
    e.shared = shared;
    e.holders.push_back(h);
    t.count.store(t.entries.size(), std::memory_order_relaxed);
    return true;
}

bool conflicts(const file_id& id, bool shared, const std::function<void(handle)>& holder)
{
    table& t = the_table();
    std::lock_guard<std::mutex> guard(t.mutex);
    entry* e = conflicting(t, id, shared);
    if (e != nullptr) holder(e->holders.front());
    return e != nullptr;
}

bool wait_until_free(const file_id& id, bool shared, deadline until)
{
    table& t = the_table();
    std::unique_lock<std::mutex> guard(t.mutex);
    const auto free = [&] { return conflicting(t, id, shared) == nullptr; };
    if (until == deadline::max()) {
        t.released.wait(guard, free);
        return true;
    }
    return t.released.wait_until(guard, until, free);
}

namespace {

// Ends the holding through h, under the lock. True when h was the last holder of id: the
// deferred descriptors are then closed, their flocks released first (when release_flocks), and
// id is forgotten. Otherwise h is deferred.
bool end_holding(table& t, const file_id& id, handle h, bool release_flocks) noexcept
{
    auto found = t.entries.find(id);
    if (found == t.entries.end()) return true;
    entry& e = found->second;
    e.holders.erase(std::remove(e.holders.begin(), e.holders.end(), h), e.holders.end());
    if (!e.holders.empty()) {
        defer(e, h);  // other holders of this process: keep its locks until the last leaves
        return false;
    }
    // A deferred descriptor that holds no flock (a failed attempt, inspect) is unaffected.
    for (handle d : e.deferred) {
        if (release_flocks) release_flock(d);
        close_handle(d);
    }
    t.entries.erase(found);
    t.count.store(t.entries.size(), std::memory_order_relaxed);
    return true;
}

} // namespace

void release(const file_id& id, handle h, bool release_flocks, bool h_alone) noexcept
{
    table& t = the_table();
    {
        // The closes happen under the mutex on purpose: until this entry is gone no other thread
        // of this process can lock the file, so none of them can drop a lock taken meanwhile.
        std::lock_guard<std::mutex> guard(t.mutex);
        if (!end_holding(t, id, h, release_flocks)) return;
        if (release_flocks && !h_alone) release_flock(h);
        close_handle(h);
    }
    t.released.notify_all();
}

bool release_keep_open(const file_id& id, handle h) noexcept
{
    table& t = the_table();
    {
        std::lock_guard<std::mutex> guard(t.mutex);
        if (!end_holding(t, id, h, true)) return false;
        release_record_lock(h);
        release_flock(h);
    }
    t.released.notify_all();
    return true;
}

void close_unless_held(const file_id& id, handle h) noexcept
{
    table& t = the_table();
    std::lock_guard<std::mutex> guard(t.mutex);
    auto found = t.entries.find(id);
    if (found == t.entries.end())
        close_handle(h);
    else
        defer(found->second, h);
}

bool with_holder(const file_id& id, const std::function<void(handle)>& f)
{
    table& t = the_table();
    std::lock_guard<std::mutex> guard(t.mutex);
    auto found = t.entries.find(id);
    if (found == t.entries.end()) return false;
    f(found->second.holders.front());
    return true;
}

bool empty() noexcept { return the_table().count.load(std::memory_order_relaxed) == 0; }

std::size_t size() noexcept { return the_table().count.load(std::memory_order_relaxed); }

} // namespace registry
} // namespace detail
} // namespace lockfile
} // namespace zc
