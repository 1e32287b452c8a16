/* hold-sockets PID: takes a copy of every socket process PID has open (pidfd_open and
 * pidfd_getfd, Linux 5.6+; needs the right to ptrace PID, so root), prints one line per
 * socket and then "holding N sockets", and holds them until it is killed. While it does,
 * a socket PID had stays open after PID dies: what a child that inherited a daemon's
 * sockets, or a daemon that is stopped rather than gone, does to the other end. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

int main(int argc, char **argv)
{
    char *end;
    long pid;
    int pidfd, held = 0;
    char directory[64];
    DIR *fds;
    struct dirent *entry;

    if (argc != 2 || (pid = strtol(argv[1], &end, 10)) <= 0 || *end) {
        fprintf(stderr, "usage: hold-sockets PID\n");
        return 2;
    }
    pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
    if (pidfd < 0) {
        perror("hold-sockets: pidfd_open");
        return 1;
    }
    snprintf(directory, sizeof directory, "/proc/%ld/fd", pid);
    fds = opendir(directory);
    if (!fds) {
        perror("hold-sockets: opendir");
        return 1;
    }
    while ((entry = readdir(fds))) {
        char path[PATH_MAX], target[PATH_MAX];
        ssize_t length;
        long fd = strtol(entry->d_name, &end, 10);
        int copy;

        if (entry->d_name[0] == '.' || *end)
            continue;
        snprintf(path, sizeof path, "%s/%s", directory, entry->d_name);
        length = readlink(path, target, sizeof target - 1);
        if (length < 0)
            continue; /* closed meanwhile */
        target[length] = '\0';
        if (strncmp(target, "socket:", 7))
            continue;
        copy = (int)syscall(SYS_pidfd_getfd, pidfd, (int)fd, 0);
        if (copy < 0) {
            fprintf(stderr, "hold-sockets: pidfd_getfd %ld: %s\n", fd, strerror(errno));
            return 1;
        }
        printf("fd %ld: %s\n", fd, target);
        held++;
    }
    closedir(fds);
    printf("holding %d sockets\n", held);
    fflush(stdout);
    for (;;)
        pause();
}
