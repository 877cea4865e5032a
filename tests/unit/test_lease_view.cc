// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// Per-address views (issue 21, point 2): a view holds exactly links to its phone's
// files, is replaced whole, and is removed without following anything.
#include <lease_view.h>

#include "test_util.h"

#include <filesystem>

namespace phoneprov {
namespace {

using test::TempDir;
namespace fs = std::filesystem;

constexpr uint32_t kIp = 0x7f1e000b;  // 127.30.0.11

TEST(LeaseView, LinkTargetClimbsOutOfTheView) {
    struct Scenario {
        int line_;
        std::string path;
        std::string target;
    };
    const std::vector<Scenario> scenarios = {
        {__LINE__, "SEP001E4A300004.cnf.xml", "../../SEP001E4A300004.cnf.xml"},
        {__LINE__, "yealink/001565300001.cfg", "../../../yealink/001565300001.cfg"},
        {__LINE__, "yealink/tok/001565300001.cfg", "../../../../yealink/tok/001565300001.cfg"},
    };
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(testing::Message() << "line " << s.line_);
        EXPECT_EQ(LeaseViews::linkTarget(s.path), s.target);
    }
    EXPECT_EQ(LeaseViews::ipText(kIp), "127.30.0.11");
}

TEST(LeaseView, BindReplacesTheWholeViewAndUnbindRemovesIt) {
    TempDir root;
    test::writeFile(root / "yealink/tok/a.cfg", "secret-a");
    test::writeFile(root / "SEP001E4A300004.cnf.xml", "secret-c");
    test::writeFile(root / "yealink/tok2/b.cfg", "secret-b");
    LeaseViews views(root.path(), static_cast<gid_t>(-1));
    ASSERT_EQ(views.bind(kIp, {"yealink/tok/a.cfg", "SEP001E4A300004.cnf.xml",
                               "../escape.cfg", "/etc/passwd"}),
              "");
    const std::string view = root / "by-address/127.30.0.11";
    EXPECT_EQ(test::readFile(view + "/yealink/tok/a.cfg"), "secret-a");
    EXPECT_EQ(test::readFile(view + "/SEP001E4A300004.cnf.xml"), "secret-c");
    EXPECT_TRUE(fs::is_symlink(view + "/yealink/tok/a.cfg"));
    EXPECT_FALSE(fs::exists(root / "by-address/escape.cfg"));
    // Rebound with other files: the old links are gone, nothing is left aside.
    ASSERT_EQ(views.bind(kIp, {"yealink/tok2/b.cfg"}), "");
    EXPECT_FALSE(fs::exists(view + "/yealink/tok/a.cfg"));
    EXPECT_FALSE(fs::exists(view + "/SEP001E4A300004.cnf.xml"));
    EXPECT_EQ(test::readFile(view + "/yealink/tok2/b.cfg"), "secret-b");
    size_t entries = 0;
    for (const auto& e : fs::directory_iterator(root / "by-address")) {
        (void)e;
        ++entries;
    }
    EXPECT_EQ(entries, 1u);
    // Unbind removes the links, never what they point at.
    ASSERT_EQ(views.unbind(kIp), "");
    EXPECT_FALSE(fs::exists(view));
    EXPECT_EQ(test::readFile(root / "yealink/tok2/b.cfg"), "secret-b");
    EXPECT_EQ(views.unbind(kIp), "");  // gone already
}

TEST(LeaseView, UnbindNeverFollowsALinkedFolder) {
    TempDir root;
    TempDir outside;
    test::writeFile(outside / "keep/victim.cfg", "keep");
    fs::create_directories(root / "by-address");
    fs::create_directory_symlink(outside / "keep", root / "by-address/127.30.0.11");
    LeaseViews views(root.path(), static_cast<gid_t>(-1));
    EXPECT_EQ(views.unbind(kIp), "");
    EXPECT_EQ(test::readFile(outside / "keep/victim.cfg"), "keep");
    // by-address itself a symlink: nothing is made through it.
    TempDir root2;
    fs::create_directory_symlink(outside.path(), root2 / "by-address");
    LeaseViews views2(root2.path(), static_cast<gid_t>(-1));
    EXPECT_NE(views2.bind(kIp, {"a.cfg"}), "");
    EXPECT_FALSE(fs::exists(outside / "127.30.0.11"));
}

}  // namespace
}  // namespace phoneprov
