// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Child processes for the Windows tests: a program started with CreateProcess and talked to
// through pipes, with every wait bounded (the same interface as process.hpp's POSIX one, which
// says why it is written by hand: Boost.Process v1 has no read with a time limit).
#ifndef ZC_LOCKFILE_TEST_WINDOWS_PROCESS_HPP
#define ZC_LOCKFILE_TEST_WINDOWS_PROCESS_HPP

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include "../../tools/zc-lockfile/command_line.hpp"

namespace zc_test {

using namespace std::chrono_literals;

// How long any single step of a test may wait for another process before the test fails.
constexpr std::chrono::milliseconds step_limit = 20s;

class child_process {
public:
    // With merge_stderr, the child's stderr goes to the same pipe as its stdout.
    explicit child_process(const std::vector<std::string>& argv, bool merge_stderr = false)
    {
        SECURITY_ATTRIBUTES inherit{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
        HANDLE in_read, in_write, out_read, out_write;
        if (!::CreatePipe(&in_read, &in_write, &inherit, 0) || !::CreatePipe(&out_read, &out_write, &inherit, 0))
            throw std::runtime_error("CreatePipe failed");
        // Only the child's ends are inherited.
        ::SetHandleInformation(in_write, HANDLE_FLAG_INHERIT, 0);
        ::SetHandleInformation(out_read, HANDLE_FLAG_INHERIT, 0);
        // UTF-8 arguments, as the command takes them (command_line.hpp).
        std::wstring command = zc_cli::widen(zc_cli::command_line(argv));
        STARTUPINFOW si{};
        si.cb = sizeof si;
        si.dwFlags = STARTF_USESTDHANDLES;
        si.hStdInput = in_read;
        si.hStdOutput = out_write;
        si.hStdError = merge_stderr ? out_write : ::GetStdHandle(STD_ERROR_HANDLE);
        PROCESS_INFORMATION pi{};
        const BOOL ok = ::CreateProcessW(nullptr, &command[0], nullptr, nullptr, TRUE, 0, nullptr, nullptr, &si, &pi);
        ::CloseHandle(in_read);
        ::CloseHandle(out_write);
        to_child_ = in_write;
        from_child_ = out_read;
        if (!ok) throw std::runtime_error("cannot start " + argv[0]);
        ::CloseHandle(pi.hThread);
        process_ = pi.hProcess;
        pid_ = pi.dwProcessId;
    }
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    ~child_process()
    {
        if (process_ != nullptr) {
            if (!ended_) {
                ::TerminateProcess(process_, 1);
                ::WaitForSingleObject(process_, 5000);
            }
            ::CloseHandle(process_);
        }
        close_stdin();
        if (from_child_ != nullptr) ::CloseHandle(from_child_);
    }

    unsigned long pid() const { return pid_; }

    // One line of the child's output, without its line end; "" at end of output. Throws when no
    // full line arrives within step_limit.
    std::string read_line()
    {
        const auto deadline = std::chrono::steady_clock::now() + step_limit;
        for (;;) {
            const auto nl = buffer_.find('\n');
            if (nl != std::string::npos) {
                std::string line = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                if (!line.empty() && line.back() == '\r') line.pop_back();
                return line;
            }
            if (eof_) {
                std::string rest;
                rest.swap(buffer_);
                return rest;
            }
            DWORD available = 0;
            if (!::PeekNamedPipe(from_child_, nullptr, 0, nullptr, &available, nullptr)) {
                eof_ = true;  // the child closed its end
                continue;
            }
            if (available == 0) {
                if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("timed out waiting for a line from the child");
                std::this_thread::sleep_for(1ms);
                continue;
            }
            char buf[512];
            DWORD got = 0;
            if (!::ReadFile(from_child_, buf, static_cast<DWORD>(std::min<DWORD>(available, sizeof buf)), &got, nullptr) || got == 0) {
                eof_ = true;
                continue;
            }
            buffer_.append(buf, got);
        }
    }

    // Every line until the child closes its output.
    std::vector<std::string> read_all_lines()
    {
        std::vector<std::string> lines;
        for (;;) {
            std::string line = read_line();
            if (line.empty() && eof_ && buffer_.empty()) return lines;
            lines.push_back(line);
        }
    }

    // Reads lines until one contains text; returns it. Throws at end of output.
    std::string read_until(const std::string& text)
    {
        for (;;) {
            std::string line = read_line();
            if (line.find(text) != std::string::npos) return line;
            if (line.empty() && eof_ && buffer_.empty()) throw std::runtime_error("no line with '" + text + "'");
        }
    }

    void write_line(const std::string& line)
    {
        const std::string data = line + "\n";
        DWORD put = 0;
        if (!::WriteFile(to_child_, data.data(), static_cast<DWORD>(data.size()), &put, nullptr) || put != data.size())
            throw std::runtime_error("cannot write to the child");
    }

    void close_stdin()
    {
        if (to_child_ != nullptr) ::CloseHandle(to_child_);
        to_child_ = nullptr;
    }

    // Ends the child at once, as a crash or SIGKILL would: no destructor runs.
    void terminate()
    {
        ::TerminateProcess(process_, 137);
        wait();
    }

    // The exit code; throws when the child does not end within step_limit.
    int exit_code() { return wait(); }
    int wait()
    {
        if (::WaitForSingleObject(process_, static_cast<DWORD>(step_limit.count())) != WAIT_OBJECT_0)
            throw std::runtime_error("the child did not end in time");
        ended_ = true;
        DWORD code = 0;
        ::GetExitCodeProcess(process_, &code);
        return static_cast<int>(code);
    }

private:
    HANDLE process_ = nullptr;
    unsigned long pid_ = 0;
    HANDLE to_child_ = nullptr;
    HANDLE from_child_ = nullptr;
    bool ended_ = false;
    bool eof_ = false;
    std::string buffer_;
};

} // namespace zc_test

#endif
