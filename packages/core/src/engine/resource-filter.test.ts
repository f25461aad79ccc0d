import { describe, expect, it } from "vitest";
import { resourceFilter } from "./resource-filter.js";

const names = [
  "public.orders",
  "public.orders_audit",
  "shop.orders",
  "shop.customers",
  "web1/service:nginx",
  "web1/service:nginx-exporter",
  "web1/mount:/var",
  "web1/mount:/var/lib",
  "web1/service:app",
];
const selected = (filter: string) => names.filter(resourceFilter(filter));

describe("resource_filters", () => {
  it("a plain name selects that name only, never a longer one that starts with it", () => {
    expect(selected("orders")).toEqual(["public.orders", "shop.orders"]);
    expect(selected("public.orders")).toEqual(["public.orders"]);
    expect(selected("nginx")).toEqual(["web1/service:nginx"]);
    expect(selected("web1")).toEqual(names.filter((name) => name.startsWith("web1/")));
    expect(selected("/service:")).toEqual(["web1/service:nginx", "web1/service:nginx-exporter", "web1/service:app"]);
    expect(selected("mount:/var")).toEqual(["web1/mount:/var", "web1/mount:/var/lib"]); // a whole path part
    expect(selected("ord")).toEqual([]);
  });

  it("the patterns in config/, the README and the seed keep selecting what they selected", () => {
    expect(selected("^shop\\.")).toEqual(["shop.orders", "shop.customers"]);
    expect(selected("nginx.*")).toEqual(["web1/service:nginx", "web1/service:nginx-exporter"]);
    expect(selected("/(mount:/var|service:app)$")).toEqual(["web1/mount:/var", "web1/service:app"]);
    expect(selected("orders_audit$")).toEqual(["public.orders_audit"]);
  });
});
