// The start page only forwards each user to the page for their role.
import { homeFor, runPage } from "./api.js";

runPage(async (me) => location.replace(homeFor(me.role)));
