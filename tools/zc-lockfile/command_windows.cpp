// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// zc-lockfile run, on Windows: COMMAND started with CreateProcess inside a job object that kills
// it when zc-lockfile ends (the counterpart of PR_SET_PDEATHSIG), and its exit code returned.
//
// Windows has no signals to forward: Ctrl-C and Ctrl-Break reach every process of the console,
// COMMAND included. Before COMMAND starts, zc-lockfile ends on them (the default); while COMMAND
// runs, it ignores them and reports how COMMAND ended.

#include "cli.hpp"
#include "command_line.hpp"

#include <iostream>
#include <string>
#include <vector>

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include <shellapi.h>  // CommandLineToArgvW

namespace zc_cli {

namespace {

std::string message_of(DWORD e)
{
    char* text = nullptr;
    const DWORD n = ::FormatMessageA(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
                                     nullptr, e, 0, reinterpret_cast<char*>(&text), 0, nullptr);
    std::string out = n > 0 ? std::string(text, n) : "error " + std::to_string(e);
    if (text != nullptr) ::LocalFree(text);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == '.')) out.pop_back();
    return out;
}

} // namespace

void prepare_signals() {}
void hold_signals() {}
void end_as_command() {}

std::vector<std::string> arguments(int argc, char** argv)
{
    int count = 0;
    wchar_t** wide = ::CommandLineToArgvW(::GetCommandLineW(), &count);
    if (wide == nullptr) return std::vector<std::string>(argv + 1, argv + argc);
    std::vector<std::string> out;
    for (int i = 1; i < count; ++i) out.push_back(narrow(wide[i]));
    ::LocalFree(wide);
    return out;
}

int run_command(const std::vector<std::string>& command)
{
    // The job dies with its last handle, which is ours: if zc-lockfile dies, COMMAND does too,
    // and never runs on without the lock.
    const HANDLE job = ::CreateJobObjectA(nullptr, nullptr);
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
    limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    if (job == nullptr || !::SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limits, sizeof limits)) {
        std::cerr << "zc-lockfile: cannot create a job object: " << message_of(::GetLastError()) << "\n";
        return exit_software;
    }
    // COMMAND's arguments as they came: widened back exactly (command_line.hpp).
    std::vector<std::wstring> wide;
    for (const auto& a : command) wide.push_back(widen(a));
    std::wstring line = command_line(wide);
    STARTUPINFOW si{};
    si.cb = sizeof si;
    PROCESS_INFORMATION pi{};
    // Handles are inherited only when inheritable: the lock file's is not (the library opens it
    // so), and the standard handles are.
    if (!::CreateProcessW(nullptr, &line[0], nullptr, nullptr, TRUE, CREATE_SUSPENDED, nullptr, nullptr, &si, &pi)) {
        const DWORD e = ::GetLastError();
        std::cerr << "zc-lockfile: cannot run " << command[0] << ": " << message_of(e) << "\n";
        ::CloseHandle(job);
        return e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND ? 127 : 126;  // as shells report it
    }
    if (!::AssignProcessToJobObject(job, pi.hProcess)) {
        std::cerr << "zc-lockfile: cannot tie " << command[0] << " to zc-lockfile: " << message_of(::GetLastError()) << "\n";
        ::TerminateProcess(pi.hProcess, exit_software);
        ::CloseHandle(pi.hThread);
        ::CloseHandle(pi.hProcess);
        ::CloseHandle(job);
        return exit_software;
    }
    ::SetConsoleCtrlHandler(nullptr, TRUE);  // COMMAND decides what an interrupt does
    ::ResumeThread(pi.hThread);
    ::CloseHandle(pi.hThread);
    ::WaitForSingleObject(pi.hProcess, INFINITE);
    DWORD code = exit_software;
    ::GetExitCodeProcess(pi.hProcess, &code);
    ::CloseHandle(pi.hProcess);
    ::CloseHandle(job);
    return static_cast<int>(code);
}

} // namespace zc_cli
