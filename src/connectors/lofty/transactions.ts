import { z } from "zod";
import { loftyTransactions } from "../../db/schema";
import { transactions as unifiedTransactions } from "../../db/schema/unified";
import { idText, loftyEntity, loftyId, loftyNumber, loftyRef, loftyTime, numberOf, text } from "./records";
import { instantOf } from "./time";
import { sourceColumns, transactionDelete } from "./unified";

/** A v2 transaction: its dates are epoch milliseconds (int64), `-1` when unset. */
export const loftyTransactionSchema = z.looseObject({
  id: loftyId,
  leadId: loftyRef,
  transactionName: text,
  address: text,
  status: text,
  transactionType: text,
  price: loftyNumber,
  closeTime: loftyTime,
  createTime: loftyTime,
  updateTime: loftyTime,
});

/** Transactions (v2): one list for the team, scroll-paged like the rest, no updated filter. */
export const transactions = loftyEntity({
  name: "transactions",
  listPath: "/v2.0/transactions",
  collectionKey: "transactions",
  idField: "id",
  schema: loftyTransactionSchema,
  coreTable: loftyTransactions,
  created: (t) => t.createTime,
  updated: (t) => t.updateTime,
  columns: (t) => ({
    lead_id: idText(t.leadId),
    name: t.transactionName ?? null,
    address: t.address ?? null,
    status: t.status ?? null,
    transaction_type: t.transactionType ?? null,
    price: numberOf(t.price),
    close_at: instantOf(t.closeTime),
  }),
  more: (t, source) => {
    const close = instantOf(t.closeTime);
    return [
      {
        table: unifiedTransactions,
        row: {
          ...sourceColumns(source, idText(t.id) ?? "", t.createTime, t.updateTime, false),
          name: t.transactionName ?? null,
          address: t.address ?? null,
          status: t.status ?? null,
          transaction_type: t.transactionType ?? null,
          price: numberOf(t.price),
          contract_date: null,
          close_date: close ? close.slice(0, 10) : null,
        },
      },
    ];
  },
  alsoDelete: (sourceId) => [transactionDelete(sourceId)],
});
