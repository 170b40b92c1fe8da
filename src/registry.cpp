// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.

#include "registry.hpp"

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <new>
#include <unordered_map>

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
    bool shared = false;        // the mode of the holders, while there are any
    std::size_t holders = 0;    // slots in state holding
    std::list<slot> slots;      // every descriptor of the file that the registry lists
};

struct table {
    std::mutex mutex;
    std::condition_variable released;
    std::unordered_map<file_id, entry, id_hash> entries;
    std::atomic<std::size_t> count{0};  // entries
    std::atomic<std::size_t> held{0};   // entries with holders: the only ones a new request can meet
};

void prepare_fork() noexcept;
void parent_after_fork() noexcept;
void child_after_fork() noexcept;

table& the_table()
{
    // Never destroyed: a lock may still be closed by another static's destructor at exit.
    static table* t = [] {
        auto* created = new table;
        at_fork(fork_layer::registry, prepare_fork, parent_after_fork, child_after_fork);
        return created;
    }();
    return *t;
}

// The table and its fork handlers exist from load time: a fork() landing while another thread
// first made the table would leave the child a static guard held by a thread it does not have.
[[maybe_unused]] const bool table_at_load = (the_table(), true);

// The table's lock is taken around fork(), so that the child's copy is consistent.
void prepare_fork() noexcept { the_table().mutex.lock(); }
void parent_after_fork() noexcept { the_table().mutex.unlock(); }

// In the child: the parent's locks are the parent's. Every descriptor listed is the parent's (or
// a copy of one of its holders' or acquirers' on threads the child does not have); none holds a
// record lock of the child's, and the child holds nothing yet, so closing them all drops nothing
// of the child's and nothing of the parent's (the flock belongs to the open file description,
// which the parent still has open). The objects that listed them are the parent's: in the child
// they never touch a descriptor again (lock_file.cpp: owner). The mutex was locked by
// prepare_fork on the thread that forked, which is the child's only thread, so the child unlocks
// it (as the parent does). The condition variable is made anew: the parent's waiters, which the
// child does not have, may be counted in the copy.
void child_after_fork() noexcept
{
    table& t = the_table();
    for (auto& id_entry : t.entries)
        for (const slot& s : id_entry.second.slots) close_handle(s.fd);
    t.entries.clear();
    t.count.store(0, std::memory_order_relaxed);
    t.held.store(0, std::memory_order_relaxed);
    new (&t.released) std::condition_variable;
    t.mutex.unlock();
}

entry* find(table& t, const file_id& id) noexcept
{
    auto found = t.entries.find(id);
    return found == t.entries.end() ? nullptr : &found->second;
}

bool conflict(const entry* e, bool shared) noexcept
{
    return e != nullptr && e->holders != 0 && !(shared && e->shared);
}

std::list<slot>::iterator slot_of(entry& e, handle h) noexcept
{
    for (auto it = e.slots.begin(); it != e.slots.end(); ++it)
        if (it->fd == h) return it;
    return e.slots.end();
}

handle first_holder(const entry& e) noexcept
{
    for (const slot& s : e.slots)
        if (s.state == slot_state::holding) return s.fd;
    return invalid_handle;
}

void forget_if_unused(table& t, const file_id& id, const entry& e) noexcept
{
    if (!e.slots.empty()) return;
    t.entries.erase(id);
    t.count.store(t.entries.size(), std::memory_order_relaxed);
}

// The last holder of e has left: close every parked descriptor, releasing the flocks of those
// that kept theirs first. Kept descriptors stay their objects'.
void close_parked(entry& e, bool unlock_flocks) noexcept
{
    for (auto it = e.slots.begin(); it != e.slots.end();) {
        if (it->state == slot_state::parked_locked || it->state == slot_state::parked) {
            if (unlock_flocks && it->state == slot_state::parked_locked) unlock_flock(it->fd);
            close_handle(it->fd);
            it = e.slots.erase(it);
        } else {
            ++it;
        }
    }
}

} // namespace

guard::guard() noexcept { the_table().mutex.lock(); }
guard::~guard() { the_table().mutex.unlock(); }

handle holder_of(const file_id& id) noexcept
{
    const entry* e = find(the_table(), id);
    return e != nullptr ? first_holder(*e) : invalid_handle;
}

bool conflicts(const file_id& id, bool shared, record_head* holder_head) noexcept
{
    table& t = the_table();
    std::lock_guard<std::mutex> lock(t.mutex);
    const entry* e = find(t, id);
    if (!conflict(e, shared)) return false;
    if (holder_head != nullptr) read_head(first_holder(*e), *holder_head);
    return true;
}

bool wait_until_free(const file_id& id, bool shared, const deadline& until)
{
    table& t = the_table();
    std::unique_lock<std::mutex> lock(t.mutex);
    const auto free = [&] { return !conflict(find(t, id), shared); };
    if (until.is_forever()) {
        t.released.wait(lock, free);
        return true;
    }
    return t.released.wait_until(lock, until.when(), free);
}

handle adopt(const file_id& id, bool shared, bool& locked) noexcept
{
    table& t = the_table();
    std::lock_guard<std::mutex> lock(t.mutex);
    entry* e = find(t, id);
    if (!shared || e == nullptr || e->holders == 0 || !e->shared) return invalid_handle;
    auto chosen = e->slots.end();
    for (auto it = e->slots.begin(); it != e->slots.end(); ++it) {
        if (it->state == slot_state::parked_locked) {
            chosen = it;
            break;
        }
        if (it->state == slot_state::parked && chosen == e->slots.end()) chosen = it;
    }
    if (chosen == e->slots.end()) return invalid_handle;
    locked = chosen->state == slot_state::parked_locked;
    chosen->state = slot_state::holding;
    ++e->holders;
    return chosen->fd;
}

bool reserve(const file_id& id, handle h, bool shared, slot_node* node, record_head* holder_head)
{
    table& t = the_table();
    std::lock_guard<std::mutex> lock(t.mutex);
    entry* e = find(t, id);
    if (conflict(e, shared)) {
        if (holder_head != nullptr) read_head(first_holder(*e), *holder_head);
        return false;
    }
    if (e == nullptr) {
        // The only allocation: a new entry, for a file nothing of this process holds.
        e = &t.entries[id];
        t.count.store(t.entries.size(), std::memory_order_relaxed);
    }
    if (node != nullptr) {
        node->list().front() = slot{h, slot_state::holding};
        e->slots.splice(e->slots.end(), node->list());
    } else {
        // A descriptor kept by unlock() is listed already.
        const auto it = slot_of(*e, h);
        if (it != e->slots.end()) it->state = slot_state::holding;
    }
    if (e->holders++ == 0) {
        e->shared = shared;
        t.held.fetch_add(1, std::memory_order_relaxed);
    }
    return true;
}

bool leave(const file_id& id, handle h, bool h_locked, bool keep, bool unlock_flocks, std::uint64_t h_epoch) noexcept
{
    table& t = the_table();
    bool kept = false;
    {
        // The closes happen under the mutex on purpose: until this entry's holders are gone no
        // other thread of this process can lock the file, so none of them can lose a lock taken
        // meanwhile.
        std::lock_guard<std::mutex> lock(t.mutex);
        entry* e = find(t, id);
        if (e == nullptr) return false;
        const auto it = slot_of(*e, h);
        if (it == e->slots.end()) return false;
        if (it->state == slot_state::holding && --e->holders == 0) t.held.fetch_sub(1, std::memory_order_relaxed);
        if (e->holders != 0) {
            it->state = h_locked ? slot_state::parked_locked : slot_state::parked;
            return false;
        }
        close_parked(*e, unlock_flocks);
        if (keep) {
            if (h_locked) {
                unlock_record_lock(h);
                unlock_flock(h);
            }
            it->state = slot_state::kept;
            kept = true;
        } else {
            if (h_locked && unlock_flocks && !no_fork_since(h_epoch)) unlock_flock(h);
            close_handle(h);
            e->slots.erase(it);
            forget_if_unused(t, id, *e);
        }
    }
    t.released.notify_all();
    return kept;
}

void close_kept(const file_id& id, handle h) noexcept
{
    table& t = the_table();
    std::lock_guard<std::mutex> lock(t.mutex);
    entry* e = find(t, id);
    if (e == nullptr) return;
    const auto it = slot_of(*e, h);
    if (it == e->slots.end()) return;
    if (e->holders != 0) {
        it->state = slot_state::parked;
        return;
    }
    close_handle(h);
    e->slots.erase(it);
    forget_if_unused(t, id, *e);
}

void close_unless_held(const file_id& id, handle h, slot_node& node) noexcept
{
    table& t = the_table();
    std::lock_guard<std::mutex> lock(t.mutex);
    entry* e = find(t, id);
    if (e == nullptr || e->holders == 0) {
        close_handle(h);
        return;
    }
    if (node.list().empty()) return;  // no storage (a caller's bug): leaking h drops no lock
    node.list().front() = slot{h, slot_state::parked};
    e->slots.splice(e->slots.end(), node.list());
}

bool empty() noexcept { return the_table().held.load(std::memory_order_relaxed) == 0; }

std::size_t size() noexcept { return the_table().count.load(std::memory_order_relaxed); }

std::size_t descriptors(const file_id& id) noexcept
{
    table& t = the_table();
    std::lock_guard<std::mutex> lock(t.mutex);
    const entry* e = find(t, id);
    return e != nullptr ? e->slots.size() : 0;
}

} // namespace registry
} // namespace detail
} // namespace lockfile
} // namespace zc
