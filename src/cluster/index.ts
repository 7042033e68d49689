export { ownerOf, rankOf, weight } from "./placement.js";
export { MemberTable } from "./member-table.js";
export { Membership, type MembershipOptions, type MembersListener } from "./membership.js";
