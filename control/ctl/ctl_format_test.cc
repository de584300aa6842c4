#include "control/ctl/ctl_format.hh"

#include <gtest/gtest.h>

namespace traverse::ctl {
namespace {

using json = nlohmann::json;

TEST(CtlFormat, TableAlignsColumns) {
  TextTable table({"A", "LONGER"});
  table.add({"wide cell", "x"});
  table.add({"b"});  // a short row is padded
  EXPECT_EQ(table.render(),
            "A          LONGER\n"
            "wide cell  x\n"
            "b\n");
}

TEST(CtlFormat, FieldsTolerateAnything) {
  const json object = json::parse(
      R"({"s": "text", "n": 42, "b": false, "a": ["x", 1], "z": null, "e": [], "o": {"k": 1}})");
  EXPECT_EQ(field(object, "s"), "text");
  EXPECT_EQ(field(object, "n"), "42");
  EXPECT_EQ(field(object, "b"), "no");
  EXPECT_EQ(field(object, "a"), "x,1");
  EXPECT_EQ(field(object, "z"), "-");
  EXPECT_EQ(field(object, "e"), "-");
  EXPECT_EQ(field(object, "o"), R"({"k":1})");
  EXPECT_EQ(field(object, "missing"), "-");
  EXPECT_EQ(field(json::array(), "s"), "-");
  EXPECT_EQ(field(json(), "s"), "-");
}

TEST(CtlFormat, ResultsOfOddShapes) {
  EXPECT_EQ(format_result("reload", json{{"message", "reloaded"}}), "reloaded\n");
  EXPECT_EQ(format_result("whatever", json{{"x", 1}}), "{\n  \"x\": 1\n}\n");
  EXPECT_EQ(format_result("list-sas", json::object()), "no IKE SAs\n");
  EXPECT_EQ(format_result("list-sas", json{{"ike_sas", "not a list"}}), "no IKE SAs\n");
  EXPECT_EQ(format_result("pools", json("garbage")), "POOL  ADDRESSES  SIZE  ONLINE  OFFLINE\n");
  EXPECT_EQ(format_result("status", json()).find("dataplane   not connected"),
            format_result("status", json()).size() - 26);
  EXPECT_EQ(format_result("counters", json{{"counters", {{"a", 1}, {"b", 2}}}}),
            "COUNTER  VALUE\na        1\nb        2\n");
}

}  // namespace
}  // namespace traverse::ctl
